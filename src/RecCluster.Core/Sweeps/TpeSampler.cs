using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

/// <summary>
/// Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011), one parameter at a time: after a
/// random start-up phase, observations are split into the best quarter ("good") and the rest; each
/// parameter gets a Parzen density for both groups (truncated Gaussians around the observed values plus a
/// wide prior, or smoothed category frequencies), 24 candidates are drawn from the good density and the one
/// maximising good/bad density ratio is proposed. With an infinite start-up it is plain random search.
/// </summary>
public sealed class TpeSampler(ModelSpace model, Random random, int startup)
{
    private const int Candidates = 24;
    private const double Gamma = 0.25;
    private readonly Dictionary<string, ParamSpec> _specs = ModelCatalog.ParamsOf(model.Name).ToDictionary(s => s.Name);
    private readonly List<(IReadOnlyDictionary<string, ParamValue> Params, double Score)> _observed = [];

    public void Observe(IReadOnlyDictionary<string, ParamValue> values, double score)
    {
        if (!double.IsNaN(score)) _observed.Add((values, score));
    }

    public Dictionary<string, ParamValue> Suggest()
    {
        if (_observed.Count < startup) return Searchers.Draw(model, random);
        var ranked = _observed.OrderByDescending(o => o.Score).ToList();
        int good = Math.Max(1, (int)Math.Ceiling(Gamma * ranked.Count));
        var goodSet = ranked.Take(good).Select(o => o.Params).ToList();
        var badSet = ranked.Skip(good).Select(o => o.Params).ToList();
        return Searchers.Draw(model, random, (name, domain) => domain switch
        {
            CategoricalDomain c => Categorical(name, c, goodSet, badSet),
            RangeDomain r => Numeric(name, r, goodSet, badSet),
            _ => null,
        });
    }

    private ParamValue Categorical(string name, CategoricalDomain domain, List<IReadOnlyDictionary<string, ParamValue>> good, List<IReadOnlyDictionary<string, ParamValue>> bad)
    {
        double[] Weights(List<IReadOnlyDictionary<string, ParamValue>> set)
        {
            var w = domain.Values.Select(v => 1.0 + set.Count(p => Equals(p[name], v))).ToArray();
            double total = w.Sum();
            return [.. w.Select(x => x / total)];
        }
        var l = Weights(good);
        var g = Weights(bad);
        int best = -1;
        double bestRatio = double.NegativeInfinity;
        for (int k = 0; k < Candidates; k++)
        {
            int i = SampleIndex(l);
            double ratio = Math.Log(l[i]) - Math.Log(g[i]);
            if (ratio > bestRatio) (best, bestRatio) = (i, ratio);
        }
        return domain.Values[best];
    }

    private ParamValue Numeric(string name, RangeDomain domain, List<IReadOnlyDictionary<string, ParamValue>> good, List<IReadOnlyDictionary<string, ParamValue>> bad)
    {
        double lo = domain.ToInternal(domain.Low), hi = domain.ToInternal(domain.High);
        var l = new Parzen([.. good.Select(p => domain.ToInternal((double)p[name]))], lo, hi);
        var g = new Parzen([.. bad.Select(p => domain.ToInternal((double)p[name]))], lo, hi);
        double best = l.Sample(random), bestRatio = double.NegativeInfinity;
        for (int k = 0; k < Candidates; k++)
        {
            double x = l.Sample(random);
            double ratio = l.LogDensity(x) - g.LogDensity(x);
            if (ratio > bestRatio) (best, bestRatio) = (x, ratio);
        }
        return domain.FromInternal(best, _specs[name]);
    }

    private int SampleIndex(double[] p)
    {
        double x = random.NextDouble(), c = 0;
        for (int i = 0; i < p.Length; i++) if ((c += p[i]) > x) return i;
        return p.Length - 1;
    }

    /// <summary>A mixture of Gaussians truncated to [lo, hi]: one per observation plus a wide prior.</summary>
    private sealed class Parzen
    {
        private readonly double[] _mu, _sigma;
        private readonly double _lo, _hi;

        public Parzen(double[] points, double lo, double hi)
        {
            (_lo, _hi) = (lo, hi);
            double range = hi - lo;
            var sorted = points.Order().ToArray();
            var mu = new List<double> { (lo + hi) / 2 };
            var sigma = new List<double> { range };
            double minSigma = range / Math.Min(100, sorted.Length + 1);
            for (int i = 0; i < sorted.Length; i++)
            {
                double left = i == 0 ? sorted[i] - lo : sorted[i] - sorted[i - 1];
                double right = i == sorted.Length - 1 ? hi - sorted[i] : sorted[i + 1] - sorted[i];
                mu.Add(sorted[i]);
                sigma.Add(Math.Clamp(Math.Max(left, right), minSigma, range));
            }
            (_mu, _sigma) = ([.. mu], [.. sigma]);
        }

        public double Sample(Random random)
        {
            int k = random.Next(_mu.Length);
            for (int attempt = 0; attempt < 100; attempt++)
            {
                // Box-Muller normal draw, rejected outside the range (truncation).
                double z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                double x = _mu[k] + _sigma[k] * z;
                if (x >= _lo && x <= _hi) return x;
            }
            return Math.Clamp(_mu[k], _lo, _hi);
        }

        public double LogDensity(double x)
        {
            double total = 0;
            for (int k = 0; k < _mu.Length; k++)
            {
                double mass = Phi((_hi - _mu[k]) / _sigma[k]) - Phi((_lo - _mu[k]) / _sigma[k]);
                double z = (x - _mu[k]) / _sigma[k];
                total += Math.Exp(-0.5 * z * z) / (_sigma[k] * Math.Sqrt(2 * Math.PI) * Math.Max(mass, 1e-12));
            }
            return Math.Log(total / _mu.Length + 1e-300);
        }

        private static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

        /// <summary>Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).</summary>
        private static double Erf(double x)
        {
            double sign = Math.Sign(x);
            x = Math.Abs(x);
            double t = 1 / (1 + 0.3275911 * x);
            double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return sign * y;
        }
    }
}
