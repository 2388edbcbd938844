// DistDGL's node_split: an epoch's seeds split among trainers in balanced counts, seeds of a trainer's own partitions first.
namespace GraphActors.Cluster.Coordination;

public static class SeedSplit
{
    /// <summary>
    /// Splits <paramref name="seeds"/> among trainers whose nodes host <paramref name="localPartitions"/>[t]. Trainer t gets
    /// exactly ⌊N/T⌋ seeds, plus one for the first N mod T trainers (force_even). Each partition's seeds go first to the
    /// trainers local to it, evenly among them while they have room; what is left fills the trainers still short, in order.
    /// Seeds keep their input order within a share (contiguous id ranges stay together, which keeps hops local).
    /// </summary>
    public static int[][] Split(int[] seeds, Func<int, int> ownerOf, IReadOnlyList<int[]> localPartitions)
    {
        var trainers = localPartitions.Count;
        if (trainers == 0) throw new ArgumentException("Cannot split seeds among zero trainers.", nameof(localPartitions));
        var quota = new int[trainers];
        for (var t = 0; t < trainers; t++) quota[t] = seeds.Length / trainers + (t < seeds.Length % trainers ? 1 : 0);
        var shares = Enumerable.Range(0, trainers).Select(_ => new List<int>(quota[0])).ToArray();

        // Group by owner, keeping order.
        var byOwner = new SortedDictionary<int, List<int>>();
        foreach (var s in seeds)
        {
            var p = ownerOf(s);
            if (!byOwner.TryGetValue(p, out var list)) byOwner[p] = list = [];
            list.Add(s);
        }

        var leftovers = new List<int>();
        foreach (var (partition, owned) in byOwner)
        {
            var local = Enumerable.Range(0, trainers).Where(t => Array.IndexOf(localPartitions[t], partition) >= 0).ToList();
            var next = 0;
            while (next < owned.Count)
            {
                local.RemoveAll(t => shares[t].Count >= quota[t]);
                if (local.Count == 0) break;
                // Even among the local trainers still short: each takes its part of what remains, bounded by its room.
                var each = (owned.Count - next + local.Count - 1) / local.Count;
                foreach (var t in local)
                {
                    var take = Math.Min(each, Math.Min(quota[t] - shares[t].Count, owned.Count - next));
                    shares[t].AddRange(owned.GetRange(next, take));
                    next += take;
                }
            }
            if (next < owned.Count) leftovers.AddRange(owned.GetRange(next, owned.Count - next));
        }

        var i = 0;
        for (var t = 0; t < trainers && i < leftovers.Count; t++)
        {
            var take = Math.Min(quota[t] - shares[t].Count, leftovers.Count - i);
            shares[t].AddRange(leftovers.GetRange(i, take));
            i += take;
        }
        return shares.Select(s => s.ToArray()).ToArray();
    }
}
