using System.Diagnostics;
using System.Globalization;
using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training;
using RecCluster.Training.Models;
using RecCluster.Training.Torch;
using static TorchSharp.torch;

// Where one training epoch's time goes, phase by phase, for a train config (default: the paper settings on ml-100k):
//   dotnet run -c Release --project bench/RecCluster.Bench.Epoch -- [CONFIG] [EPOCHS] [THREADS] [MICRO_BATCH_SIZE]
// Each phase is timed with a stopwatch around synchronous CPU work (torch runs an operation on the calling thread
// when it has one thread), and the process's CPU time is read per epoch. Epoch 1 is warm-up and not summarised.
TorchRuntime.PrepareProcess();   // as the CLI does, before libtorch loads
string configPath = args.Length > 0 ? args[0] : "experiments/sasrec-paper-ml100k.yaml";
int epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
TorchRuntime.SetThreads(threads);
TorchRuntime.KeepFreedMemory();   // as a trial does

var config = ExperimentLoader.LoadTrial(configPath);
var p = config.Models.Single().Parameters;
var (data, _, _) = TrialRunner.LoadData(config.Data);
var trainingUsers = data.SampleTrainingUsers(p.GetDouble("sample_ratio"), (int)p.GetInt("sample_seed"));
var trainCounts = data.TrainItemCounts(trainingUsers);
TorchRuntime.Seed(1);
using var model = new SasRec(data.ItemCount, p, new ItemSideTensors(null, null, 0, null));
int maxLength = model.MaxSequenceLength;
var users = trainingUsers.Where(u => data.TrainItems(u).Length >= 2).ToArray();
int batchSize = (int)p.GetInt("batch_size"), window = (int)p.GetInt("length_bucket_window");
int passSize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : (int)p.GetInt("micro_batch_size");
var sampler = NegativeSampler.Create(SampleStrategy.Uniform, trainCounts);
using var optimizer = new AdamOptimizer(model.parameters(), p.GetDouble("learning_rate"), p.GetDouble("adam_beta1"), p.GetDouble("adam_beta2"));
string[] phases = ["rows", "negatives", "zero_grad", "forward", "backward", "step", "item", "dispose"];
var totals = new double[epochs + 1, phases.Length];
var epochWall = new double[epochs + 1];
var epochCpu = new double[epochs + 1];
long[] cells = new long[epochs + 1], positions = new long[epochs + 1];
var process = Process.GetCurrentProcess();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var random = new Random(epoch);
    random.Shuffle(users);
    var batches = SequenceBatches.Batches(data, users, batchSize, window, random);
    process.Refresh();
    var cpu0 = process.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    model.train();
    foreach (var batchUsers in batches)
    {
        var clock = Stopwatch.StartNew();
        void Lap(int phase) { totals[epoch, phase] += clock.Elapsed.TotalSeconds; clock.Restart(); }
        optimizer.ZeroGrad();
        Lap(2);
        foreach (var pass in SequenceBatches.Passes(data, batchUsers, passSize))
        {
            clock.Restart();
            var scope = NewDisposeScope();
            var rows = SequenceBatches.Training(data, pass, maxLength, CPU);
            Lap(0);
            var negatives = sampler.Sample(data, pass, rows, model.NegativesPerPositive, random, CPU);
            Lap(1);
            var loss = model.Loss(new TrainingBatch(rows.Inputs, rows.Targets, negatives));
            Lap(3);
            loss.backward();
            Lap(4);
            _ = loss.item<float>();
            Lap(6);
            cells[epoch] += rows.Inputs.numel();
            positions[epoch] += rows.Positions;
            clock.Restart();
            scope.Dispose();
            Lap(7);
        }
        optimizer.Step();
        Lap(5);
    }
    epochWall[epoch] = wall.Elapsed.TotalSeconds;
    process.Refresh();
    epochCpu[epoch] = (process.TotalProcessorTime - cpu0).TotalSeconds;
    Console.WriteLine($"epoch {epoch}: wall {epochWall[epoch]:F3} s, cpu {epochCpu[epoch]:F3} s, {batches.Count} batches, {cells[epoch]} cells for {positions[epoch]} positions  | " +
        string.Join("  ", phases.Select((name, i) => $"{name} {totals[epoch, i]:F3}")));
}
if (epochs >= 2)
{
    int n = epochs - 1;
    double wallMean = Enumerable.Range(2, n).Average(e => epochWall[e]);
    Console.WriteLine($"\nmean over epochs 2..{epochs} (torch threads {get_num_threads()}, micro_batch_size {passSize}): wall {wallMean:F3} s/epoch, " +
        $"cpu {Enumerable.Range(2, n).Average(e => epochCpu[e]):F3} s/epoch, padded cells {Enumerable.Range(2, n).Average(e => (double)cells[e]):F0}");
    Console.WriteLine("| phase | s/epoch | share |\n|---|---|---|");
    for (int i = 0; i < phases.Length; i++)
    {
        double mean = Enumerable.Range(2, n).Average(e => totals[e, i]);
        Console.WriteLine($"| {phases[i]} | {mean:F3} | {mean / wallMean:P0} |");
    }
}

