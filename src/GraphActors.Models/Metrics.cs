// Evaluation metrics on plain arrays, so trainers and tests need no tensors for them.
namespace GraphActors.Models;

public static class Metrics
{
    /// <summary>Fraction of positions where <paramref name="predicted"/> equals <paramref name="labels"/>.</summary>
    public static double Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        CheckSameLength(predicted.Length, labels.Length);
        if (labels.Length == 0)
            return 0;
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (predicted[i] == labels[i])
                correct++;
        }
        return (double)correct / labels.Length;
    }

    /// <summary>
    /// Unweighted mean of the per-class F1 over the classes that occur in the labels or the predictions
    /// (scikit-learn's <c>f1_score(average='macro')</c>); a class with no true positives scores 0.
    /// </summary>
    public static double MacroF1(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        CheckSameLength(predicted.Length, labels.Length);
        var tp = new Dictionary<int, int>();
        var fp = new Dictionary<int, int>();
        var fn = new Dictionary<int, int>();
        for (var i = 0; i < labels.Length; i++)
        {
            tp.TryAdd(labels[i], 0);
            tp.TryAdd(predicted[i], 0);
            if (predicted[i] == labels[i])
            {
                tp[labels[i]]++;
            }
            else
            {
                fp[predicted[i]] = fp.GetValueOrDefault(predicted[i]) + 1;
                fn[labels[i]] = fn.GetValueOrDefault(labels[i]) + 1;
            }
        }
        if (tp.Count == 0)
            return 0;
        double sum = 0;
        foreach (var (c, truePositives) in tp)
        {
            var denominator = (2 * truePositives) + fp.GetValueOrDefault(c) + fn.GetValueOrDefault(c);
            sum += denominator == 0 ? 0 : 2.0 * truePositives / denominator;
        }
        return sum / tp.Count;
    }

    /// <summary>
    /// Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties sharing their average
    /// rank, which equals scikit-learn's <c>roc_auc_score</c>. Throws when only one class is present.
    /// </summary>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> isPositive)
    {
        CheckSameLength(scores.Length, isPositive.Length);
        var n = scores.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++)
            order[i] = i;
        var s = scores.ToArray();
        Array.Sort(order, (a, b) => s[a].CompareTo(s[b]));

        double positiveRankSum = 0;
        long positives = 0;
        for (var start = 0; start < n;)
        {
            var end = start;
            while (end + 1 < n && s[order[end + 1]] == s[order[start]])
                end++;
            var averageRank = ((start + end) / 2.0) + 1; // 1-based ranks start+1 … end+1
            for (var k = start; k <= end; k++)
            {
                if (isPositive[order[k]])
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }
            start = end + 1;
        }
        var negatives = n - positives;
        if (positives == 0 || negatives == 0)
            throw new ArgumentException("ROC-AUC needs both positive and negative examples.");
        return (positiveRankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }

    /// <summary>
    /// Rank of each positive among itself and its negatives (1 = best). Ties count half, as in OGB's
    /// link-prediction evaluator: <c>rank = 1 + #(neg &gt; pos) + #(neg == pos)/2</c>.
    /// </summary>
    /// <param name="positiveScores">[q] one positive score per query.</param>
    /// <param name="negativeScores">[q][k] the negatives of each query.</param>
    public static double[] Ranks(ReadOnlySpan<double> positiveScores, IReadOnlyList<double[]> negativeScores)
    {
        CheckSameLength(positiveScores.Length, negativeScores.Count);
        var ranks = new double[positiveScores.Length];
        for (var q = 0; q < ranks.Length; q++)
        {
            int greater = 0, equal = 0;
            foreach (var negative in negativeScores[q])
            {
                if (negative > positiveScores[q])
                    greater++;
                else if (negative == positiveScores[q])
                    equal++;
            }
            ranks[q] = 1 + greater + (equal / 2.0);
        }
        return ranks;
    }

    /// <summary>Mean reciprocal rank of the positives (see <see cref="Ranks"/>).</summary>
    public static double MeanReciprocalRank(ReadOnlySpan<double> positiveScores, IReadOnlyList<double[]> negativeScores)
    {
        var ranks = Ranks(positiveScores, negativeScores);
        return ranks.Length == 0 ? 0 : ranks.Average(r => 1.0 / r);
    }

    /// <summary>Fraction of queries whose positive ranks within the top <paramref name="k"/> (see <see cref="Ranks"/>).</summary>
    public static double HitsAtK(ReadOnlySpan<double> positiveScores, IReadOnlyList<double[]> negativeScores, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var ranks = Ranks(positiveScores, negativeScores);
        return ranks.Length == 0 ? 0 : ranks.Count(r => r <= k) / (double)ranks.Length;
    }

    private static void CheckSameLength(int a, int b)
    {
        if (a != b)
            throw new ArgumentException($"Inputs differ in length: {a} and {b}.");
    }
}
