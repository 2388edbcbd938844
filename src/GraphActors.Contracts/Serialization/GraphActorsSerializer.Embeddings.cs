// The embedding protocol's manifests ("E…"): tables of learnable rows held by the partitions.
using static GraphActors.Contracts.Protocols.EmbeddingProtocol;

namespace GraphActors.Contracts.Serialization;

public sealed partial class GraphActorsSerializer
{
    internal const string OpenEmbeddingsManifest = "EOP";
    internal const string EmbeddingsOpenedManifest = "EOK";
    internal const string GetEmbeddingRowsManifest = "EGR";
    internal const string PushEmbeddingGradientsManifest = "EPG";
    internal const string EmbeddingGradientsTakenManifest = "EGT";
    internal const string WriteEmbeddingsManifest = "EWR";
    internal const string EmbeddingsWrittenManifest = "EWN";

    private static string? EmbeddingManifest(object o) => o switch
    {
        OpenEmbeddings => OpenEmbeddingsManifest,
        EmbeddingsOpened => EmbeddingsOpenedManifest,
        GetEmbeddingRows => GetEmbeddingRowsManifest,
        PushEmbeddingGradients => PushEmbeddingGradientsManifest,
        EmbeddingGradientsTaken => EmbeddingGradientsTakenManifest,
        WriteEmbeddings => WriteEmbeddingsManifest,
        EmbeddingsWritten => EmbeddingsWrittenManifest,
        _ => null,
    };

    private static void WriteEmbedding<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        switch (obj)
        {
            case OpenEmbeddings m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.JobId); Config(ref w, m.Config); w.Long(m.Clock); w.Long(m.Attempt);
                w.String(m.RestoreDirectory); w.Byte(m.Rehome ? (byte)1 : (byte)0); w.Long(m.DeadlineUnixMs); w.String(m.WarmFrom);
                break;
            case EmbeddingsOpened m: w.Long(m.RequestId); w.Int(m.Partition); w.Long(m.Clock); w.Long(m.Rows); break;
            case GetEmbeddingRows m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.JobId); w.String(m.Type); w.Long(m.Clock); w.Long(m.Attempt);
                w.Long(m.AttemptFrom); w.Ints(m.Ids); w.Long(m.DeadlineUnixMs);
                break;
            case PushEmbeddingGradients m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.JobId); w.String(m.Type); w.Long(m.Clock); w.Long(m.Attempt);
                w.Long(m.AttemptFrom); w.Int(m.Piece); w.Int(m.Part); w.Ints(m.Ids); w.Floats(m.Gradients); w.Long(m.DeadlineUnixMs);
                break;
            case EmbeddingGradientsTaken m: w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Rows); break;
            case WriteEmbeddings m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.JobId); w.Long(m.Clock); w.Long(m.Attempt); w.Long(m.AttemptFrom); w.String(m.Directory);
                w.Byte(m.Release ? (byte)1 : (byte)0);
                w.Long(m.DeadlineUnixMs);
                break;
            case EmbeddingsWritten m:
                w.Long(m.RequestId); w.Int(m.Partition); Strings(ref w, m.Types); Strings(ref w, m.Files); Strings(ref w, m.Sha256); w.Ints(m.Ranges);
                break;
            default:
                throw Unknown(obj);
        }
    }

    private static object ReadEmbedding(ref WireReader r, string manifest) => manifest switch
    {
        OpenEmbeddingsManifest => new OpenEmbeddings(r.Long(), r.Int(), r.String(), Config(ref r), r.Long(), r.Long(), r.String(), r.Byte() != 0, r.Long(), r.String()),
        EmbeddingsOpenedManifest => new EmbeddingsOpened(r.Long(), r.Int(), r.Long(), r.Long()),
        GetEmbeddingRowsManifest => new GetEmbeddingRows(r.Long(), r.Int(), r.String(), r.String(), r.Long(), r.Long(), r.Long(), r.Ints(), r.Long()),
        PushEmbeddingGradientsManifest => new PushEmbeddingGradients(r.Long(), r.Int(), r.String(), r.String(), r.Long(), r.Long(), r.Long(),
            r.Int(), r.Int(), r.Ints(), r.Floats(), r.Long()),
        EmbeddingGradientsTakenManifest => new EmbeddingGradientsTaken(r.Long(), r.Int(), r.Int()),
        WriteEmbeddingsManifest => new WriteEmbeddings(r.Long(), r.Int(), r.String(), r.Long(), r.Long(), r.Long(), r.String(), r.Byte() != 0, r.Long()),
        EmbeddingsWrittenManifest => new EmbeddingsWritten(r.Long(), r.Int(), Strings(ref r), Strings(ref r), Strings(ref r), r.Ints()),
        _ => throw new System.Runtime.Serialization.SerializationException(
            $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
    };
}
