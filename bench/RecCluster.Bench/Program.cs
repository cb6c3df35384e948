using System.Diagnostics;
using System.Globalization;
using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Training;
using RecCluster.Training.Models;
using RecCluster.Training.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

// Training-step and evaluation throughput of SASRec next to this machine's matmul peak, all measured in
// one run. Shape of the step: batch 128, max_seq_length 200, hidden 64, 2 layers, 2 heads, inner 256,
// 1682 items (MovieLens-100K), dropout 0.2 (the baseline's one dropout covers attention too; SASRec is also
// measured with attention dropout off, where the fused causal kernel applies). Medians after warm-up.
const int B = 128, L = 200, H = 64, Layers = 2, Heads = 2, Inner = 256, Items = 1682;
int reps = args.Contains("--quick") ? 3 : 10;
TorchRuntime.Seed(1);
Console.WriteLine($"torch threads: {get_num_threads()}, reps: {reps}");

double Median(Action step)
{
    for (int i = 0; i < 3; i++) step();
    var times = new List<double>();
    for (int i = 0; i < reps; i++)
    {
        var clock = Stopwatch.StartNew();
        step();
        times.Add(clock.Elapsed.TotalSeconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

double MatmulPeak(ScalarType type)
{
    const int n = 4096;
    using var a = randn(n, n).to_type(type);
    using var b = randn(n, n).to_type(type);
    double seconds = Median(() => { using var c = a.matmul(b); });
    return 2.0 * n * n * n / seconds / 1e9;
}

// Forward FLOPs of one sequence (dense attention counted in full), times 3 for forward + backward.
double StepFlops(int scoredItems)
{
    double perLayer = 2.0 * L * H * 3 * H + 2.0 * L * H * H + 2 * 2.0 * L * L * H + 2 * 2.0 * L * H * Inner;
    return 3 * B * (Layers * perLayer + 2.0 * L * H * scoredItems);
}

var rows = new List<(string Name, double Seconds, double Flops)>();

foreach (var (loss, attentionDropout) in new[] { ("BCE", 0.2), ("CE", 0.2), ("BCE", 0.0), ("CE", 0.0) })
{
    using var model = new SasRec(Items, TrialParametersFor(loss, attentionDropout), new ItemSideTensors(null, null, 0, null));
    model.train();
    using var optimizer = new AdamOptimizer(model.parameters(), 1e-3);
    var inputs = randint(1, Items + 1, [B, L], dtype: int64);
    var targets = randint(1, Items + 1, [B, L], dtype: int64);
    double seconds = Median(() =>
    {
        using var scope = NewDisposeScope();
        var negatives = loss == "CE" ? null : randint(1, Items + 1, [B * L, 1], dtype: int64);
        optimizer.ZeroGrad();
        var l = model.Loss(new TrainingBatch(inputs, targets, negatives));
        l.backward();
        optimizer.Step();
    });
    rows.Add(($"SASRec step, {loss} ({(loss == "CE" ? "full softmax" : "1 negative")}), attn_dropout_prob {attentionDropout}", seconds, StepFlops(loss == "CE" ? Items : 2)));
}

{
    // The straightforward baseline: TorchSharp's TransformerEncoder with a float causal mask, BCE loss.
    var items = nn.Embedding(Items + 1, H, padding_idx: 0);
    var positions = nn.Embedding(L, H);
    var encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(H, Heads, Inner, 0.2, nn.Activations.GELU), Layers);
    var parameters = items.parameters().Concat(positions.parameters()).Concat(encoder.parameters());
    using var optimizer = optim.Adam(parameters, lr: 1e-3);
    var inputs = randint(1, Items + 1, [B, L], dtype: int64);
    var targets = randint(1, Items + 1, [B, L], dtype: int64);
    var mask = full(L, L, float.NegativeInfinity).triu(1);
    double seconds = Median(() =>
    {
        using var scope = NewDisposeScope();
        var x = items.forward(inputs) + positions.forward(arange(L)).unsqueeze(0);
        var h = encoder.forward(x.transpose(0, 1), mask, null).transpose(0, 1);   // seq-first
        var negatives = randint(1, Items + 1, [B, L], dtype: int64);
        var pos = (h * items.forward(targets)).sum(-1);
        var neg = (h * items.forward(negatives)).sum(-1);
        var l = -(F.logsigmoid(pos) + F.logsigmoid(-neg)).mean();
        optimizer.zero_grad();
        l.backward();
        optimizer.step();
    });
    rows.Add(("baseline: nn.TransformerEncoder step, BCE", seconds, StepFlops(2)));
}

double fp32 = MatmulPeak(ScalarType.Float32);
double bf16 = MatmulPeak(ScalarType.BFloat16);

// Full-ranking evaluation over 1682 items with seen items excluded, sequences up to 200 items.
var generator = new SyntheticGenerator(new SyntheticConfig(Users: 2000, Items: Items, Clusters: 20, MinLength: 20, MaxLength: 200, MarkovWeight: 0.6, Seed: 1));
using var evalModel = new SasRec(Items, TrialParametersFor("CE", 0.2), new ItemSideTensors(null, null, 0, null));
var evaluator = new Evaluator(generator.Dataset, new EvaluationConfig(EvalProtocol.Full, 100, [10], [MetricKind.Ndcg]), L, 256, CPU, 1);
double evalSeconds = Median(() => evaluator.Evaluate(evalModel, Split.Test));

string F2(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
Console.WriteLine();
Console.WriteLine($"| measurement | time (ms, median) | sequences/s | GFLOP/s | share of fp32 peak |");
Console.WriteLine($"|---|---|---|---|---|");
Console.WriteLine($"| fp32 matmul 4096² | | | {F2(fp32)} | 1.00 |");
Console.WriteLine($"| bf16 matmul 4096² | | | {F2(bf16)} | {(bf16 / fp32).ToString("F2", CultureInfo.InvariantCulture)} |");
foreach (var (name, seconds, flops) in rows)
    Console.WriteLine($"| {name} | {F2(seconds * 1000)} | {F2(B / seconds)} | {F2(flops / seconds / 1e9)} | {(flops / seconds / 1e9 / fp32).ToString("F2", CultureInfo.InvariantCulture)} |");
Console.WriteLine($"| full-ranking evaluation, 2000 users × {Items} items | {F2(evalSeconds * 1000)} | {F2(generator.Dataset.UserCount / evalSeconds)} users/s | | |");

static TrialParameters TrialParametersFor(string loss, double attentionDropout) => TrialParameters.Resolve(ModelCatalog.SasRec, new Dictionary<string, ParamValue>
{
    ["hidden_size"] = (long)H, ["n_layers"] = (long)Layers, ["n_heads"] = (long)Heads, ["inner_size"] = (long)Inner,
    ["max_seq_length"] = (long)L, ["loss_type"] = loss, ["hidden_dropout_prob"] = 0.2, ["attn_dropout_prob"] = attentionDropout,
});
