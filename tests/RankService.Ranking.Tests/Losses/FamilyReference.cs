namespace RankService.Ranking.Tests.Losses;

/// <summary>Float64 references for the loss family, written the slow obvious way: one list, plain loops.</summary>
internal static class FamilyReference
{
    private static double Gain(double y) => Math.Pow(2, y) - 1;

    private static double InverseD(int position) => 1.0 / Math.Log2(1 + position);

    /// <summary>-sum_i softmax(y)_i * log softmax(s)_i.</summary>
    public static double ListNetReference(double[] s, double[] y)
    {
        double zy = y.Sum(Math.Exp);
        double zs = s.Sum(Math.Exp);
        double loss = 0;
        for (int i = 0; i < s.Length; i++)
        {
            loss -= Math.Exp(y[i]) / zy * Math.Log(Math.Exp(s[i]) / zs);
        }
        return loss;
    }

    public static double IdealDcg(double[] y, int k = int.MaxValue)
    {
        double[] sorted = y.OrderByDescending(v => v).ToArray();
        double dcg = 0;
        for (int p = 0; p < sorted.Length && p < k; p++)
        {
            dcg += Gain(sorted[p]) * InverseD(p + 1);
        }
        return dcg;
    }

    /// <summary>1 - ApproxDCG / IdealDCG with rank_i = 1 + sum_{j != i} sigmoid((s_j - s_i) / T); 0 without a relevant item.</summary>
    public static double ApproxNdcgReference(double[] s, double[] y, double temperature)
    {
        double ideal = IdealDcg(y);
        if (ideal == 0)
        {
            return 0;
        }
        double dcg = 0;
        for (int i = 0; i < s.Length; i++)
        {
            double rank = 1;
            for (int j = 0; j < s.Length; j++)
            {
                if (j != i)
                {
                    rank += 1 / (1 + Math.Exp(-(s[j] - s[i]) / temperature));
                }
            }
            dcg += Gain(y[i]) / Math.Log2(1 + rank);
        }
        return 1 - (dcg / ideal);
    }

    /// <summary>Mean over pairs y_i &gt; y_j of max(0, margin - (s_i - s_j)); 0 without a pair.</summary>
    public static double PairwiseHingeReference(double[] s, double[] y, double margin)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < s.Length; i++)
        {
            for (int j = 0; j < s.Length; j++)
            {
                if (y[i] > y[j])
                {
                    sum += Math.Max(0, margin - (s[i] - s[j]));
                    count++;
                }
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>
    /// LambdaLoss: sum over pairs y_i &gt; y_j (at least one in the predicted top k) of w_ij * log(1 + exp(s_j - s_i)),
    /// with positions from sorting the scores (ties by list order).
    /// </summary>
    public static double LambdaLossReference(double[] s, double[] y, bool plusPlus, double mu, int k = int.MaxValue)
    {
        int n = s.Length;
        k = Math.Min(k, n);
        int[] order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ThenBy(i => i).ToArray();
        var position = new int[n];
        for (int p = 0; p < n; p++)
        {
            position[order[p]] = p + 1;
        }
        double ideal = IdealDcg(y, k);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (y[i] <= y[j] || (position[i] > k && position[j] > k))
                {
                    continue;
                }
                double gainGap = Math.Abs(Gain(y[i]) - Gain(y[j])) / ideal;
                double di = position[i] <= k ? InverseD(position[i]) : 0;
                double dj = position[j] <= k ? InverseD(position[j]) : 0;
                double weight = gainGap * Math.Abs(di - dj);
                if (plusPlus)
                {
                    int gap = Math.Abs(position[i] - position[j]);
                    weight += mu * gainGap * Math.Abs(InverseD(gap) - InverseD(gap + 1));
                }
                loss += weight * Math.Log(1 + Math.Exp(s[j] - s[i]));
            }
        }
        return loss;
    }

    /// <summary>
    /// Mean (or, with <paramref name="sumOfTerms"/>, sum) over rated items (y &gt; 0) of -log( exp(s_i) / sum_j exp(c_j) ) with c
    /// the normaliser's scores.
    /// </summary>
    public static double SoftmaxReference(double[] s, double[] y, double[] normaliser, bool sumOfTerms = false)
    {
        double logZ = Math.Log(normaliser.Sum(Math.Exp));
        double total = 0;
        int count = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (y[i] > 0)
            {
                total -= s[i] - logZ;
                count++;
            }
        }
        return count == 0 ? 0 : sumOfTerms ? total : total / count;
    }

    /// <summary>Similarity of the triplet forms: u . v or -||u - v||^2.</summary>
    public static double Similarity(double[] u, double[] v, bool dot)
    {
        double value = 0;
        for (int d = 0; d < u.Length; d++)
        {
            value += dot ? u[d] * v[d] : -(u[d] - v[d]) * (u[d] - v[d]);
        }
        return value;
    }

    /// <summary>The negative each mining rule picks for positive p, by its definition (null: no negative).</summary>
    public static int? Mine(double[] sim, double[] y, int p, string mining, double margin)
    {
        int[] negatives = Enumerable.Range(0, y.Length).Where(j => y[j] == 0).ToArray();
        if (negatives.Length == 0)
        {
            return null;
        }
        int Highest(IEnumerable<int> js) => js.OrderByDescending(j => sim[j]).ThenBy(j => j).First();
        return mining switch
        {
            "hard" => Highest(negatives),
            "semi-hard" => negatives.Any(j => sim[j] < sim[p] && sim[j] > sim[p] - margin)
                ? Highest(negatives.Where(j => sim[j] < sim[p] && sim[j] > sim[p] - margin))
                : negatives.OrderBy(j => sim[j]).ThenBy(j => j).First(),
            _ => throw new ArgumentException(mining),
        };
    }

    /// <summary>Mean over positives (y &gt;= threshold) of max(0, margin - (sim_p - sim_n)), n mined deterministically.</summary>
    public static double TripletReference(double[] u, double[][] v, double[] y, bool dot, string mining, double margin, double threshold)
    {
        double[] sim = v.Select(x => Similarity(u, x, dot)).ToArray();
        double sum = 0;
        int count = 0;
        for (int p = 0; p < y.Length; p++)
        {
            if (y[p] >= threshold && Mine(sim, y, p, mining, margin) is int n)
            {
                sum += Math.Max(0, margin - (sim[p] - sim[n]));
                count++;
            }
        }
        return count == 0 ? 0 : sum / count;
    }
}
