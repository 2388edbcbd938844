// The store-version protocol's manifests ("V…"): versioned partition requests, loads, retirements and reloads.
using System.Runtime.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Contracts.Serialization;

public sealed partial class GraphActorsSerializer
{
    internal const string VersionedRequestManifest = "VRQ";
    internal const string LoadStoreVersionManifest = "VLD";
    internal const string StoreVersionLoadedManifest = "VLO";
    internal const string RetireStoreVersionManifest = "VRT";
    internal const string StoreVersionChangedManifest = "VCH";
    internal const string GetStoreVersionManifest = "VGV";
    internal const string ReloadStoreManifest = "VRL";
    internal const string StoreReloadedManifest = "VRD";
    internal const string StoreVersionSwitchedManifest = "VSW";

    private static string? StoreManifest(object o) => o switch
    {
        VersionedRequest => VersionedRequestManifest,
        LoadStoreVersion => LoadStoreVersionManifest,
        StoreVersionLoaded => StoreVersionLoadedManifest,
        RetireStoreVersion => RetireStoreVersionManifest,
        StoreVersionChanged => StoreVersionChangedManifest,
        GetStoreVersion => GetStoreVersionManifest,
        ReloadStore => ReloadStoreManifest,
        StoreReloaded => StoreReloadedManifest,
        StoreVersionSwitched => StoreVersionSwitchedManifest,
        _ => null,
    };

    private static void WriteStore<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        switch (obj)
        {
            case VersionedRequest m:
                // The request as this serializer writes it on its own (manifest + payload), behind the version.
                if (m.Request is VersionedRequest)
                    throw new SerializationException("A VersionedRequest cannot carry another VersionedRequest.");
                w.Int(m.Version);
                WriteNested(ref w, m.Request);
                break;
            case LoadStoreVersion m: w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Version); w.String(m.Path); w.Long(m.DeadlineUnixMs); break;
            case StoreVersionLoaded m: w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Version); w.Long(m.MappedBytes); break;
            case RetireStoreVersion m: w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Version); w.Long(m.DeadlineUnixMs); break;
            case StoreVersionChanged m: w.Int(m.Version); w.String(m.Path); w.Int(m.Previous); w.String(m.PreviousPath); break;
            case GetStoreVersion: break;
            case ReloadStore m: w.String(m.Path); w.Long(m.TimeoutMs); break;
            case StoreReloaded m: w.Byte(m.Ok ? (byte)1 : (byte)0); w.Int(m.Version); w.String(m.Path); w.String(m.Message); break;
            case StoreVersionSwitched m: w.Int(m.Version); w.String(m.Path); w.Int(m.Previous); w.String(m.PreviousPath); break;
            default:
                throw Unknown(obj);
        }
    }

    private object ReadStore(ref WireReader r, string manifest) => manifest switch
    {
        VersionedRequestManifest => ReadVersionedRequest(ref r),
        LoadStoreVersionManifest => new LoadStoreVersion(r.Long(), r.Int(), r.Int(), r.String(), r.Long()),
        StoreVersionLoadedManifest => new StoreVersionLoaded(r.Long(), r.Int(), r.Int(), r.Long()),
        RetireStoreVersionManifest => new RetireStoreVersion(r.Long(), r.Int(), r.Int(), r.Long()),
        StoreVersionChangedManifest => new StoreVersionChanged(r.Int(), r.String(), r.Int(), r.String()),
        GetStoreVersionManifest => GetStoreVersion.Instance,
        ReloadStoreManifest => new ReloadStore(r.String(), r.Long()),
        StoreReloadedManifest => new StoreReloaded(r.Byte() != 0, r.Int(), r.String(), r.String()),
        StoreVersionSwitchedManifest => new StoreVersionSwitched(r.Int(), r.String(), r.Int(), r.String()),
        _ => throw new SerializationException($"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
    };

    private VersionedRequest ReadVersionedRequest(ref WireReader r)
    {
        var version = r.Int();
        var (request, manifest) = ReadNested(ref r);
        return request is IPartitionRequest and not VersionedRequest
            ? new VersionedRequest(version, (IPartitionRequest)request)
            : throw new SerializationException($"A VersionedRequest carries '{manifest}', which is not a partition request.");
    }
}
