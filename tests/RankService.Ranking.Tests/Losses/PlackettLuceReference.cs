namespace RankService.Ranking.Tests.Losses;

/// <summary>Brute-force float64 references, written the slow obvious way.</summary>
internal static class PlackettLuceReference
{
    /// <summary>P_PL(order | s) = prod_i exp(s_order[i]) / sum_{j >= i} exp(s_order[j]).</summary>
    public static double Probability(IReadOnlyList<double> scores, IReadOnlyList<int> order)
    {
        double p = 1;
        for (int i = 0; i < order.Count; i++)
        {
            double denominator = 0;
            for (int j = i; j < order.Count; j++)
            {
                denominator += Math.Exp(scores[order[j]]);
            }
            p *= Math.Exp(scores[order[i]]) / denominator;
        }
        return p;
    }

    public static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0)
        {
            yield return [];
            yield break;
        }
        foreach (int[] rest in Permutations(n - 1))
        {
            for (int at = 0; at <= rest.Length; at++)
            {
                var p = new int[n];
                Array.Copy(rest, 0, p, 0, at);
                p[at] = n - 1;
                Array.Copy(rest, at, p, at + 1, rest.Length - at);
                yield return p;
            }
        }
    }

    /// <summary>Positions sorted by label descending (labels must be tie-free for this to be the unique order).</summary>
    public static int[] LabelOrder(IReadOnlyList<double> labels) =>
        Enumerable.Range(0, labels.Count).OrderByDescending(i => labels[i]).ToArray();

    /// <summary>-log P_PL of the label order; for tie-free labels, ListMLE's exact value.</summary>
    public static double ListMle(IReadOnlyList<double> scores, IReadOnlyList<double> labels) =>
        -Math.Log(Probability(scores, LabelOrder(labels)));

    /// <summary>Mean over pairs y_i &gt; y_j of log(1 + exp(s_j - s_i)); 0 when there is no such pair.</summary>
    public static double PairwiseLogistic(IReadOnlyList<double> scores, IReadOnlyList<double> labels)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            for (int j = 0; j < scores.Count; j++)
            {
                if (labels[i] > labels[j])
                {
                    sum += Math.Log(1 + Math.Exp(scores[j] - scores[i]));
                    count++;
                }
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>Central finite differences of <paramref name="f"/> at <paramref name="x"/>.</summary>
    public static double[] NumericGradient(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double[] plus = (double[])x.Clone();
            double[] minus = (double[])x.Clone();
            plus[i] += h;
            minus[i] -= h;
            gradient[i] = (f(plus) - f(minus)) / (2 * h);
        }
        return gradient;
    }
}
