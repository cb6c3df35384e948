using RecCluster.Core.Data;
using RecCluster.Core.Config;
using RecCluster.Core.Config.Import;
using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;

namespace RecCluster.Core.Tests;

/// <summary>WarpRec and Shaped configs read as written: every mapping, search-space form, warning and error.</summary>
public sealed class ImportTests : IDisposable
{
    private readonly TempFiles _files = new();
    public void Dispose() => _files.Dispose();

    private const string Ours = """
        data: {synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}}
        evaluation: {cutoffs: [5, 10], metrics: [hr, ndcg]}

        """;

    private SweepConfig Sweep(string yaml) => ExperimentLoader.LoadSweep(_files.Write("s.yaml", yaml));

    private IReadOnlyList<string> ErrorsOf(string yaml) =>
        [.. Assert.Throws<ConfigException>(() => ExperimentLoader.LoadSweep(_files.Write("s.yaml", yaml))).Errors.Select(e => e.ToString())];

    private string At(int line, int column) => $"{Path.Combine(_files.Folder, "s.yaml")}:{line}:{column}: ";

    [Fact]
    public void The_three_WarpRec_model_blocks_of_the_issue_load_as_written()
    {
        var sweep = Sweep(Ours + """
            models:
                Caser: {embedding_size: 64, n_h: 8, n_v: 4, dropout_prob: 0.5, weight_decay: 0.0, epochs: 3, learning_rate: 0.001, neg_samples: 1}
                GRU4Rec: {embedding_size: 128, hidden_size: 128, num_layers: 1, dropout_prob: 0.2, weight_decay: 0.0001, epochs: 20, learning_rate: 0.001, neg_samples: 2}
                SASRec: {embedding_size: 128, n_layers: 2, n_heads: 4, inner_size: 512, dropout_prob: 0.3, attn_dropout_prob: 0.3, learning_rate: 0.001, weight_decay: 0.0, epochs: 1, neg_samples: 1}
            """);
        var models = sweep.Experiment.Models.ToDictionary(m => m.Name, m => m.Parameters);
        Assert.Equal(["caser", "gru4rec", "sasrec"], models.Keys);
        var (caser, gru) = (models["caser"], models["gru4rec"]);
        Assert.Equal((3L, 1L, 8L, 0.5), (caser.GetInt("n_epochs"), caser.GetInt("neg_samples"), caser.GetInt("n_h"), caser.GetDouble("dropout_prob")));
        Assert.Equal((20L, 2L, 0.0001), (gru.GetInt("n_epochs"), gru.GetInt("neg_samples"), gru.GetDouble("weight_decay")));
        var sasrec = models["sasrec"];
        Assert.Equal((128L, 0.3, 1L, 1L, 512L), (sasrec.GetInt("hidden_size"), sasrec.GetDouble("hidden_dropout_prob"), sasrec.GetInt("n_epochs"),
            sasrec.GetInt("negative_samples_count"), sasrec.GetInt("inner_size")));
    }

    [Fact]
    public void WarpRec_inline_search_spaces_map_to_ours()
    {
        var space = Sweep(Ours + """
            models:
              SASRec:
                embedding_size: [64, 128]
                n_layers: [grid, 1, 2]
                hidden_act: [choice, gelu, relu]
                dropout_prob: [uniform, 0.1, 0.3]
                attn_dropout_prob: ['quniform', 0.0, 0.4, 0.1]
                learning_rate: [loguniform, 0.0001, 0.01, 2]
                weight_decay: [loguniform, 0.000001, 0.001]
                n_heads: [randint, 1, 3]
                batch_size: [qrandint, 64, 256, 64]
                epochs: 1
            """).Models.Single().Space;
        Assert.Equal((true, "64, 128"), Categorical(space["hidden_size"]));
        Assert.Equal((true, "1, 2"), Categorical(space["n_layers"]));
        Assert.Equal((false, "gelu, relu"), Categorical(space["hidden_act"]));
        Assert.Equal(new RangeDomain("uniform", 0.1, 0.3), space["hidden_dropout_prob"]);
        Assert.Equal(new RangeDomain("quniform", 0.0, 0.4, 0.1), space["attn_dropout_prob"]);
        Assert.Equal(new RangeDomain("loguniform", 0.0001, 0.01), space["learning_rate"]);   // the log base does not change the distribution
        Assert.Equal(new RangeDomain("loguniform", 0.000001, 0.001), space["weight_decay"]);
        Assert.Equal(new RangeDomain("randint", 1, 3), space["n_heads"]);
        Assert.Equal(new RangeDomain("quniform", 64, 256, 64), space["batch_size"]);
        Assert.Equal(new FixedDomain(1L), space["n_epochs"]);
    }

    private static (bool Grid, string Values) Categorical(Domain domain)
    {
        var c = Assert.IsType<CategoricalDomain>(domain);
        return (c.IsGrid, string.Join(", ", c.Values));
    }

    [Theory]
    [InlineData("[qloguniform, 0.0001, 0.01, 0.0001]", "quantised log-uniform")]
    [InlineData("[lograndint, 1, 100]", "log-uniform integer")]
    [InlineData("[qlograndint, 1, 100, 2]", "quantised log-uniform integer")]
    [InlineData("[randn, 0.01, 0.001]", "normal distributions")]
    [InlineData("[qrandn, 0.01, 0.001, 0.001]", "normal distributions")]
    public void WarpRec_spaces_we_cannot_honour_are_errors_at_their_name(string written, string reason)
    {
        var error = Assert.Single(ErrorsOf(Ours + $"models:\n  SASRec:\n    learning_rate: {written}\n"));
        Assert.StartsWith(At(5, 21) + $"WarpRec search space '{written[1..written.IndexOf(',')]}'", error);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void WarpRec_model_names_are_read_in_any_case_as_WarpRec_reads_them() =>
        Assert.Equal(["sasrec", "gsasrec", "pop"],
            Sweep(Ours + "models: {SASREC: {epochs: 1}, gsasrec: {epochs: 1}, pop: {}}\n").Models.Select(m => m.Name));

    [Fact]
    public void A_model_under_both_names_and_a_hyperparameter_under_both_names_are_errors()
    {
        var errors = ErrorsOf(Ours + """
            models:
              sasrec: {n_epochs: 1}
              SASRec: {epochs: 2, n_epochs: 3}
            """);
        Assert.Equal(At(5, 3) + "'SASRec' names the same model as 'sasrec' (ours: 'sasrec'): write one of them", Assert.Single(errors));
        var both = Assert.Single(ErrorsOf(Ours + "models:\n  SASRec: {epochs: 2, n_epochs: 3}\n"));
        Assert.Equal(At(4, 12) + "'epochs' is another name for 'n_epochs', which is also set: write one of them", both);
    }

    [Fact]
    public void WarpRec_model_sections_beside_our_sections_say_where_they_go() =>
        Assert.StartsWith(At(4, 12) + "WarpRec's 'optimization' section is read in a whole WarpRec experiment file",
            Assert.Single(ErrorsOf(Ours + "models:\n  SASRec: {optimization: {strategy: random}, epochs: 1}\n")));

    [Fact]
    public void Shaped_policies_become_models_under_our_names()
    {
        var sweep = Sweep(Ours + """
            policy_configs:
              scoring_policy:
                policy_type: sasrec
                batch_size: 1000
                n_epochs: 1
                negative_samples_count: 2
                learning_rate: 0.001
                hidden_size: 64
                n_heads: 2
                n_layers: 2
                attn_dropout_prob: 0.2
                hidden_act: "gelu"
                max_seq_length: 50
              embedding_policy: {policy_type: bert4rec, hidden_size: 32, hidden_dropout_prob: 0.1, mask_rate: 0.3, n_epochs: 1}
            """);
        var models = sweep.Experiment.Models.ToDictionary(m => m.Name, m => m.Parameters);
        var sasrec = models["sasrec"];
        Assert.Equal((1000L, 1L, 2L, 64L, "gelu", 50L), (sasrec.GetInt("batch_size"), sasrec.GetInt("n_epochs"), sasrec.GetInt("negative_samples_count"),
            sasrec.GetInt("hidden_size"), sasrec.GetString("hidden_act"), sasrec.GetInt("max_seq_length")));
        var bert = models["bert4rec"];
        Assert.Equal((32L, 0.1, 0.3), (bert.GetInt("embedding_size"), bert.GetDouble("dropout_prob"), bert.GetDouble("mask_rate")));
        var warning = Assert.Single(ConfigImport.Warnings(_files.Write("s.yaml", File.ReadAllText(Path.Combine(_files.Folder, "s.yaml")))));
        Assert.Equal((4, 3), (warning.Line, warning.Column));
        Assert.Contains("each become a model of the sweep", warning.Message);
    }

    [Fact]
    public void Shaped_policies_we_cannot_train_are_errors()
    {
        Assert.Equal([At(4, 33) + "Shaped policy_type 'als' has no model here; supported: sasrec, bert4rec"],
            ErrorsOf(Ours + "policy_configs:\n  scoring_policy: {policy_type: als}\n"));
        Assert.Equal([At(5, 35) + "policy_type 'sasrec' is already given by the other policy; a sweep trains each model once"],
            ErrorsOf(Ours + "policy_configs:\n  scoring_policy: {policy_type: sasrec}\n  embedding_policy: {policy_type: sasrec}\n"));
        Assert.Equal([At(4, 1) + "write the models under one of 'models' or 'policy_configs' (Shaped's), not both"],
            ErrorsOf(Ours + "models: {pop: {}}\npolicy_configs:\n  scoring_policy: {policy_type: sasrec}\n"));
        Assert.Equal([At(4, 3) + "policy_configs.scoring_policy needs policy_type (sasrec or bert4rec)"],
            ErrorsOf(Ours + "policy_configs:\n  scoring_policy: {n_epochs: 1}\n"));
        // Shaped's BERT4Rec lists negative_samples_count; ours trains on a softmax over all items, so it is refused by name.
        Assert.Contains("unknown key 'negative_samples_count' in models.bert4rec",
            Assert.Single(ErrorsOf(Ours + "policy_configs:\n  scoring_policy: {policy_type: bert4rec, negative_samples_count: 2}\n")));
    }

    /// <summary>A whole WarpRec experiment; line numbers below count from its first line.</summary>
    private string WarpRec(string models = "", string evaluation = "", string splitter = "", string extra = "")
    {
        _files.Write("ml.tsv", "user_id\titem_id\trating\ttimestamp\n1\t1\t5\t1\n");
        return $$"""
            reader:
              local_path: ml.tsv
              sep: "\t"
            splitter:
              test_splitting: {{(splitter == "" ? "{strategy: temporal_leave_k_out, k: 1}" : splitter)}}
              validation_splitting: {strategy: temporal_leave_k_out}
            evaluation:
              top_k: [10, 20]
              metrics: [nDCG, Precision, Recall, HitRate, MRR]
              {{(evaluation == "" ? "validation_metric: nDCG@10" : evaluation)}}
            models:
              SASRec:
                optimization:
                  strategy: optuna
                  scheduler: asha
                  num_samples: 4
                  cpu_per_trial: 2.0
                  gpu_per_trial: 0.5
                  parallel_trials: 3
                  device: cuda
                  properties: {mode: max, seed: 9, max_t: 8, grace_period: 2, reduction_factor: 2, time_attr: training_iteration}
                early_stopping: {patience: 4, monitor: score}
                embedding_size: [32, 64]
                epochs: 8
              {{(models == "" ? "Pop: {}" : models)}}
            {{extra}}
            """;
    }

    [Fact]
    public void A_whole_WarpRec_experiment_becomes_our_sweep()
    {
        var sweep = Sweep(WarpRec(evaluation: "validation_metric: HitRate@20\n  strategy: sampled\n  num_negatives: 99\n  batch_size: 64"));
        var e = sweep.Experiment;
        Assert.Equal(Path.Combine(_files.Folder, "ml.tsv"), e.Data.Path);
        Assert.Equal(Data.DataFormat.Atomic, e.Data.Format);
        Assert.Equal((EvalProtocol.Sampled, 99), (e.Evaluation.Protocol, e.Evaluation.SampledNegatives));
        Assert.Equal([10, 20], e.Evaluation.Cutoffs);
        Assert.Equal([MetricKind.Ndcg, MetricKind.Precision, MetricKind.Recall, MetricKind.Hr, MetricKind.Mrr], e.Evaluation.Metrics);
        Assert.Equal(new Objective("hr@20", true), e.Objective);
        Assert.Equal(new SearchConfig(SearchAlgorithm.Tpe, 4, 9), sweep.Search);
        var scheduler = sweep.Scheduler;
        Assert.Equal((SchedulerKind.Asha, 2, 2.0, 8), (scheduler.Kind, scheduler.GracePeriod, scheduler.ReductionFactor, scheduler.MaxT));
        Assert.Equal(new ResourcesConfig(0.5, 2), sweep.Resources);
        Assert.Equal(3, sweep.MaxConcurrentTrials);
        var sasrec = sweep.Models.Single(m => m.Name == "sasrec").Space;
        Assert.Equal(new FixedDomain("cuda"), sasrec["device"]);
        Assert.Equal(new FixedDomain(4L), sasrec["early_stopping_step"]);
        Assert.Equal(new FixedDomain(64L), sasrec["eval_batch_size"]);
        Assert.Equal((true, "32, 64"), Categorical(sasrec["hidden_size"]));
        Assert.Equal(new FixedDomain(64L), sweep.Models.Single(m => m.Name == "pop").Space["eval_batch_size"]);
    }

    [Fact]
    public void WarpRec_temporal_holdout_becomes_our_holdout_split_and_leave_k_out_with_k_1_leave_one_out()
    {
        var holdout = Sweep(WarpRec()
            .Replace("{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_holdout, ratio: 0.2}")
            .Replace("validation_splitting: {strategy: temporal_leave_k_out}", "validation_splitting: {strategy: temporal_holdout, ratio: 0.1}"));
        Assert.Equal(new DataSplit(SplitPart.Latest(0.2), SplitPart.Latest(0.1)), holdout.Experiment.Data.Split);
        var mixed = Sweep(WarpRec().Replace("{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_holdout, ratio: 0.25}"));
        Assert.Equal(new DataSplit(SplitPart.Latest(0.25), SplitPart.LastItem), mixed.Experiment.Data.Split);
        Assert.Equal(DataSplit.LeaveOneOut, Sweep(WarpRec()).Experiment.Data.Split);
    }

    [Fact]
    public void A_model_s_own_value_wins_over_the_one_other_sections_give_every_model()
    {
        var yaml = WarpRec(models: "Pop: {device: cpu, eval_batch_size: 32}", evaluation: "batch_size: 64")
            .Replace("    epochs: 8\n", "    epochs: 8\n    early_stopping_step: 2\n").Replace("    early_stopping: {patience: 4, monitor: score}\n", "");
        var models = Sweep(yaml).Models.ToDictionary(m => m.Name, m => m.Space);
        Assert.Equal((new FixedDomain("cpu"), new FixedDomain(32L)), (models["pop"]["device"], models["pop"]["eval_batch_size"]));
        Assert.Equal((new FixedDomain("cuda"), new FixedDomain(2L)), (models["sasrec"]["device"], models["sasrec"]["early_stopping_step"]));
    }

    [Fact]
    public void Without_early_stopping_WarpRec_runs_every_epoch_and_without_a_validation_metric_selects_by_nDCG_at_5()
    {
        var yaml = WarpRec(evaluation: "top_k: [5]").Replace("    early_stopping: {patience: 4, monitor: score}\n", "")
            .Replace("  top_k: [10, 20]\n", "");
        var sweep = Sweep(yaml);
        Assert.Equal(new FixedDomain(0L), sweep.Models.Single(m => m.Name == "sasrec").Space["early_stopping_step"]);
        Assert.Equal("ndcg@5", sweep.Experiment.Objective.Metric);
    }

    [Fact]
    public void Sections_with_no_meaning_here_are_warnings_at_their_place()
    {
        var path = _files.Write("s.yaml", WarpRec(models: "Pop:\n    meta: {save_model: true}", extra: """
            general: {device: cpu, ray_verbose: 0}
            dashboard:
              wandb: {enabled: true, project: p}
            writer: {dataset_name: ml}
            """).Replace("  validation_splitting: {strategy: temporal_leave_k_out}\n", "")
            .Replace("  sep: \"\\t\"\n", "  sep: \"\\t\"\n  rating_type: explicit\n")
            .Replace("      strategy: optuna\n", "      strategy: hopt\n      block_size: 10\n"));
        ExperimentLoader.LoadSweep(path);
        var warnings = ConfigImport.Warnings(path).Select(w => $"{w.Line}:{w.Column}: {w.Message}").ToList();
        Assert.True(warnings.Count == 9, string.Join("\n", warnings));
        void Has(string start) => Assert.Contains(warnings, w => w.StartsWith(start, StringComparison.Ordinal));
        Has("29:1: dashboard (W&B, MLflow, CodeCarbon) is not used");
        Has("31:1: writer is not used: results are kept in the leaderboard store");
        Has("28:24: general.ray_verbose is not used");
        Has("4:3: ratings are not used");
        Has("6:3: no validation_splitting: each user's last item before the test block is still held out");
        Has("14:17: models.SASRec.optimization.strategy 'hopt' runs our TPE search");
        Has("15:7: models.SASRec.optimization.block_size is not used");
        Has("27:12: models.Pop.meta.save_model is not used");
        Has("26:3: models.Pop has no optimization block");
    }

    public static TheoryData<string, string, string, string> Refused => new()
    {
        // (what replaces, with what, expected position, expected message start)
        { "{strategy: temporal_leave_k_out, k: 1}", "{strategy: random_holdout, ratio: 0.1}", "5:30",
            "splitter.test_splitting.strategy 'random_holdout' is not supported" },
        { "{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_holdout}", "5:19",
            "splitter.test_splitting temporal_holdout needs a ratio" },
        { "{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_holdout, ratio: 1.5}", "5:55",
            "split.test.ratio must be between 0 and 1, got 1.5" },
        { "{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_holdout, ratio: 0.2, k: 1}", "5:60",
            "splitter.test_splitting.k does not apply to temporal_holdout" },
        { "{strategy: temporal_leave_k_out, k: 1}", "{strategy: temporal_leave_k_out, k: 2}", "5:55", "splitter.test_splitting.k 2 is not supported" },
        { "{strategy: temporal_leave_k_out}", "{strategy: k_fold_cross_validation, folds: 5}", "6:36",
            "splitter.validation_splitting.strategy 'k_fold_cross_validation' is not supported" },
        { "MRR]", "Gini]", "9:47", "WarpRec metric 'Gini' has no counterpart here" },
        { "nDCG@10", "nDCG", "10:22", "validation_metric 'nDCG' is not a metric@k" },
        { "strategy: optuna", "strategy: bohb", "14:17", "models.SASRec.optimization.strategy 'bohb': BOHB" },
        { "scheduler: asha", "scheduler: pbt", "15:18", "models.SASRec.optimization.scheduler 'pbt' is not supported" },
        { "time_attr: training_iteration", "time_attr: time_total_s", "21:99", "models.SASRec.optimization.properties.time_attr 'time_total_s'" },
        { "device: cuda", "device: cuda:1", "20:15", "models.SASRec.optimization.device 'cuda:1' is not supported" },
        { "monitor: score", "monitor: loss", "22:44", "models.SASRec.early_stopping.monitor 'loss' is not supported" },
        { "patience: 4,", "patience: 4, grace_period: 3,", "22:49", "models.SASRec.early_stopping.grace_period is not supported" },
        { "sep: \"\\t\"", "sep: \";\"", "3:8", "reader.sep ';' is not supported" },
        { "sep: \"\\t\"", "reading_method: azure_blob", "3:19", "reader.reading_method 'azure_blob' is not supported" },
        { "sep: \"\\t\"", "header: false", "3:11", "reader.header must be true" },
        { "sep: \"\\t\"", "labels: {user_id_label: uid}", "3:27", "reader.labels.user_id_label 'uid' is not supported" },
        { "Pop: {}", "Pop: {meta: {save_recs: true}}", "25:27", "models.Pop.meta.save_recs is not supported" },
        { "Pop: {}", "Pop: {meta: {load_from: w.pt}}", "25:27", "models.Pop.meta.load_from is not supported" },
        { "Pop: {}", "Pop: {optimization: {strategy: random}}", "25:24", "models.Pop: optimization strategy differs from SASRec's" },
        { "  validation_metric: nDCG@10", "  stat_significance: {wilcoxon_test: true}", "10:3", "evaluation.stat_significance is not supported" },
        { "  validation_metric: nDCG@10", "  complex_metrics: [{name: nDCG}]", "10:3", "evaluation.complex_metrics is not supported" },
        { "reader:", "filtering: {}\nreader:", "1:1", "filtering is not translated" },
        { "reader:", "general: {custom_modules: [m]}\nreader:", "1:11", "general.custom_modules is not supported" },
        { "reader:", "general: {precision: float64}\nreader:", "1:22", "general.precision 'float64' is not supported" },
        { "Pop: {}", "ItemKNN: {k: 10}", "25:3", "unknown key 'ItemKNN' in models" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void WarpRec_settings_we_cannot_honour_are_errors_naming_them(string find, string replace, string at, string message)
    {
        var yaml = WarpRec();
        Assert.Contains(find, yaml);
        var errors = ErrorsOf(yaml.Replace(find, replace));
        Assert.Contains(errors, e => e.StartsWith($"{Path.Combine(_files.Folder, "s.yaml")}:{at}: {message}", StringComparison.Ordinal));
    }

    [Fact]
    public void The_converted_file_loads_to_the_same_sweep_from_anywhere()
    {
        var path = _files.Write("s.yaml", WarpRec());
        var ours = ConfigImport.ToOurs(path);
        Directory.CreateDirectory(Path.Combine(_files.Folder, "elsewhere"));
        var converted = ExperimentLoader.LoadSweep(_files.Write(Path.Combine("elsewhere", "ours.yaml"), ours));
        var original = ExperimentLoader.LoadSweep(path);
        Assert.Equal(original.Experiment.Data, converted.Experiment.Data);
        Assert.Equal(original.Experiment.Evaluation.MetricNames, converted.Experiment.Evaluation.MetricNames);
        Assert.Equal((original.Search, original.Scheduler, original.Resources), (converted.Search, converted.Scheduler, converted.Resources));
        Assert.Equal(original.Models.Select(m => m.Name), converted.Models.Select(m => m.Name));
        Assert.Equal(original.Models[0].Space.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"),
            converted.Models[0].Space.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
        Assert.DoesNotContain("SASRec", ours);
        Assert.Contains("algorithm: tpe", ours);
    }

    [Fact]
    public void Our_own_configs_are_not_rewritten()
    {
        var path = _files.Write("s.yaml", Ours + "models: {sasrec: {hidden_size: [32, 64]}}\n");
        var source = YamlSource.Parse(path, File.ReadAllText(path), out var root);
        Assert.Same(root, ConfigImport.Translate(source, root!));
        Assert.Empty(source.Warnings);
    }
}
