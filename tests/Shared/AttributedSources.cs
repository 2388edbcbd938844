// Compiled into every test project (see Directory.Build.props): GraphLearn text sources holding every attribute kind.
using System.Globalization;
using System.Text;

namespace GraphActors.TestSupport;

/// <summary>
/// GraphLearn local-format sources with node weights, labels, int, float and string attributes on nodes and edges (edge
/// labels too), strings with non-ASCII characters and empty ones, so that a store can be compared value by value with
/// local mode. Users 1000 + u (weighted, labelled, attributes int:string:float:string:int), items 1 + i (weighted,
/// attributes int:float:string); u2i (user → item, weighted, labelled, string:int:float; declare it undirected) and i2i
/// (item → item, labelled, int:string; undirected too). User 2000 appears only in u2i (GraphLearn's defaults answer for
/// it). Declare them with the attribute types given here.
/// </summary>
public sealed record AttributedSources(string Users, string Items, string Clicks, string Similar, int UserCount, int ItemCount)
{
    public static readonly string[] UserAttrTypes = ["int", "string", "float", "string", "int"];
    public static readonly string[] ItemAttrTypes = ["int", "float", "string"];
    public static readonly string[] ClickAttrTypes = ["string", "int", "float"];
    public static readonly string[] SimilarAttrTypes = ["int", "string"];

    /// <summary>A user only an edge names: not in the user source.</summary>
    public const long EdgeOnlyUser = 2000;

    /// <summary>A string per kind the store must carry byte for byte: accents, CJK, an emoji (a surrogate pair), empty, ASCII.</summary>
    public static string Word(int k) => (k % 5) switch
    {
        0 => $"naïve-{k}",
        1 => $"東京{k}",
        2 => "😀x",
        3 => "",
        _ => $"plain{k}",
    };

    /// <param name="longStrings">When above 0, each user's second string attribute is this many 'é' longer (two UTF-8 bytes each): wide answers.</param>
    public static AttributedSources Write(string dir, int users = 40, int items = 15, int seed = 5, int longStrings = 0)
    {
        var tail = new string('é', longStrings);
        Directory.CreateDirectory(dir);
        var inv = CultureInfo.InvariantCulture;
        var rnd = new Random(seed);
        var u = new StringBuilder("id:int64\tweight:float\tlabel:int32\tattributes:string\n");
        for (var k = 0; k < users; k++)
            u.Append(inv, $"{1000 + k}\t{0.5 + k % 4}\t{k % 3}\t{k * 10}:{Word(k)}:{k * 0.5}:{Word(k + 1)}{tail}:{-k}\n");
        var it = new StringBuilder("id:int64\tweight:float\tattributes:string\n");
        for (var k = 0; k < items; k++)
            it.Append(inv, $"{1 + k}\t{1 + k % 3}\t{k % 3}:{k * 0.25}:c{k % 4}\n");
        var clicks = new StringBuilder("src_id:int64\tdst_id:int64\tweight:float\tlabel:int32\tattributes:string\n");
        for (var k = 0; k < users; k++)
        {
            var picked = new HashSet<int>();
            for (var n = 1 + rnd.Next(4); n > 0; n--) picked.Add(rnd.Next(items));
            foreach (var i in picked)
                clicks.Append(inv, $"{1000 + k}\t{1 + i}\t{1 + (k * i) % 5}\t{(k + i) % 2}\t{Word(k * 7 + i)}:{k + i}:{(k * i) % 7 * 0.5}\n");
        }
        clicks.Append(inv, $"{EdgeOnlyUser}\t1\t2\t1\t{Word(3)}:7:1.5\n");
        var similar = new StringBuilder("src_id:int64\tdst_id:int64\tlabel:int32\tattributes:string\n");
        for (var k = 0; k < items; k++)
        {
            similar.Append(inv, $"{1 + k}\t{1 + (k + 1) % items}\t{k % 2}\t{k}:{Word(k + 2)}\n");
            if (k % 3 == 0) similar.Append(inv, $"{1 + k}\t{1 + (k + 5) % items}\t1\t{100 + k}:s{k}\n");
        }
        var paths = new AttributedSources(Path.Combine(dir, "users.txt"), Path.Combine(dir, "items.txt"), Path.Combine(dir, "u2i.txt"),
            Path.Combine(dir, "i2i.txt"), users, items);
        File.WriteAllText(paths.Users, u.ToString());
        File.WriteAllText(paths.Items, it.ToString());
        File.WriteAllText(paths.Clicks, clicks.ToString());
        File.WriteAllText(paths.Similar, similar.ToString());
        return paths;
    }
}
