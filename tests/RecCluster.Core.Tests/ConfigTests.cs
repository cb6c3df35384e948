using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Sweeps;

namespace RecCluster.Core.Tests;

public class ConfigTests : IDisposable
{
    private readonly TempFiles _files = new();
    public void Dispose() => _files.Dispose();

    private const string Valid = """
        name: t
        data:
          synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}
        evaluation: {protocol: full, cutoffs: [5, 10], metrics: [hr, ndcg]}
        objective: {metric: ndcg@10, mode: max}
        models:
          sasrec:
            hidden_size: 32
            n_heads: 4
            loss_type: bpr
        """;

    private IReadOnlyList<ConfigError> ErrorsOf(string yaml)
    {
        var path = _files.Write("c.yaml", yaml);
        return Assert.Throws<ConfigException>(() => ExperimentLoader.LoadTrial(path)).Errors;
    }

    [Fact]
    public void A_valid_config_resolves_defaults_and_normalises_choices()
    {
        var config = ExperimentLoader.LoadTrial(_files.Write("c.yaml", Valid));
        var p = config.Models.Single().Parameters;
        Assert.Equal("sasrec", config.Models[0].Name);
        Assert.Equal(32, p.GetInt("hidden_size"));
        Assert.Equal("BPR", p.GetString("loss_type"));
        Assert.Equal(1, p.GetInt("negative_samples_count"));   // derived: BPR needs a negative
        Assert.Equal(0.2, p.GetDouble("hidden_dropout_prob"));
        Assert.True(p.IsExplicit("n_heads"));
        Assert.False(p.IsExplicit("n_layers"));
        Assert.Equal(40, config.Data.Synthetic!.Items);
        Assert.Equal(["hr@5", "hr@10", "ndcg@5", "ndcg@10"], config.Evaluation.MetricNames);
    }

    [Fact]
    public void All_problems_are_reported_at_once_with_positions()
    {
        var errors = ErrorsOf("""
            data:
              synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}
            evaluation: {metrics: [hr, ndgc]}
            objective: {metric: ndcg@10}
            models:
              sasrec:
                hiden_size: 32
                n_heads: 3
                learning_rate: -1
                hidden_act: relu6
            """);
        var text = errors.Select(e => e.ToString()).ToList();
        Assert.Contains(text, t => t.EndsWith(":3:28: unknown metric 'ndgc'; did you mean 'ndcg'?"));
        Assert.Contains(text, t => t.Contains(":7:5: unknown key 'hiden_size' in models.sasrec; did you mean 'hidden_size'?"));
        Assert.Contains(text, t => t.Contains(":9:20: 'learning_rate' must be in (0, 1], got -1"));
        Assert.Contains(text, t => t.Contains(":10:17: 'hidden_act' must be one of gelu, relu, swish, tanh, sigmoid"));
        Assert.All(errors, e => Assert.EndsWith("c.yaml", e.File));
    }

    [Fact]
    public void Cross_field_rules_are_checked()
    {
        var errors = ErrorsOf("""
            data:
              synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}
            models:
              sasrec:
                hidden_size: 30
                n_heads: 4
                loss_type: BCE
                negative_samples_count: 0
                append_item_features: true
            """).Select(e => e.ToString()).ToList();
        Assert.Contains(errors, t => t.Contains(":6:5: hidden_size (30) must be divisible by n_heads (4)"));
        Assert.Contains(errors, t => t.Contains(":8:5: loss_type BCE needs at least one negative"));
        Assert.Contains(errors, t => t.Contains(":9:5: append_item_features needs data.item_features"));
    }

    [Fact]
    public void Sample_strategy_with_full_softmax_is_rejected_not_ignored()
    {
        var errors = ErrorsOf("""
            data: {synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}}
            models: {sasrec: {sample_strategy: popularity}}
            """);
        Assert.Contains("sample_strategy applies only when negatives are sampled", Assert.Single(errors).Message);
    }

    [Theory]
    [InlineData("data: {synthetic: {users: 5}, path: x.inter}\nmodels: {pop: {}}", "exactly one of 'path'")]
    [InlineData("data: {path: missing.inter}\nmodels: {pop: {}}", "data file not found")]
    [InlineData("data: {synthetic: {}}\nmodels: {narm: {}}", "unknown key 'narm' in models")]
    [InlineData("data: {synthetic: {}}\nmodels: {caser: {n_heads: 2}}", "unknown key 'n_heads' in models.caser")]
    [InlineData("data: {synthetic: {}}\nmodels: {bert4rec: {embedding_size: 30, n_heads: 4}}", "embedding_size (30) must be divisible by n_heads (4)")]
    [InlineData("data: {synthetic: {}}\nmodels: {gru4rec: {loss_type: BPR, neg_samples: 0}}", "loss_type BPR needs at least one negative")]
    [InlineData("data: {synthetic: {}}\nmodels: {gsasrec: {gbce_t: 1.5}}", "'gbce_t' must be in [0, 1], got 1.5")]
    [InlineData("data: {synthetic: {}}\nmodels: {pop: {}}\nobjective: {metric: ndcg@50}", "not among the evaluated metrics")]
    [InlineData("data: {synthetic: {}}\nmodels: {sasrec: {n_layers: {grid: [1, 2]}}}", "must be a fixed value in a train config")]
    [InlineData("data: {synthetic: {min_length: 30, max_length: 20}}\nmodels: {pop: {}}", "min_length (30) is greater than max_length (20)")]
    [InlineData("data: {synthetic: {}}\nmodels: {pop: {}, sasrec: {}}", "exactly one model")]
    [InlineData("data: {synthetic: {}}\nmodels: {pop: {}}\nspilt: leave_one_out", "did you mean 'split'?")]
    [InlineData("data: [1, 2\n", "invalid YAML")]
    [InlineData("", "the file is empty")]
    public void Bad_configs_are_explained(string yaml, string message) =>
        Assert.Contains(ErrorsOf(yaml), e => e.Message.Contains(message));

    [Theory]
    [InlineData("name: [unclosed, {\ndata: {synthetic: {}}\nmodels: {pop: {}}\n", 1, 7,
        "invalid YAML: this '[' is never closed (reading stopped at line 2)")]
    [InlineData("data: {synthetic: {}}\nmodels: {pop: {}}\n---\nname: second\n", 4, 1,
        "a config file holds one YAML document; a second one ('---') starts here")]
    [InlineData("data: {synthetic: {users: 99999999999999999999}}\nmodels: {pop: {}}\n", 1, 27,
        "data.synthetic.users must be between 1 and 10000000, got 99999999999999999999")]
    [InlineData("data: {synthetic: {}}\nmodels: {sasrec: {n_epochs: 1e30}}\n", 2, 29, "'n_epochs' must be in [1, 100000], got 1E+30")]
    [InlineData("data: {synthetic: {}}\nmodels: {gru4rec: {n_epochs: 3, epochs: 4}}\n", 2, 33,
        "'epochs' is another name for 'n_epochs', which is also set: write one of them")]
    public void Yaml_mistakes_are_located_and_explained(string yaml, int line, int column, string message)
    {
        var error = Assert.Single(ErrorsOf(yaml));
        Assert.Equal((line, column, message), (error.Line, error.Column, error.Message));
    }

    [Fact]
    public void Validate_names_the_command_that_accepts_the_file()
    {
        const string data = "data: {synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}}\n";
        var train = _files.Write("t.yaml", data + "models: {pop: {}}\n");
        var oneTrialSweep = _files.Write("s.yaml", data + "models: {pop: {}}\nresources: {cpus_per_trial: 1}\n");
        var loaded = new List<DataConfig>();
        Assert.Equal(ConfigKind.Train, ExperimentLoader.Validate(train, loaded.Add).Kind);
        var verdict = ExperimentLoader.Validate(oneTrialSweep, loaded.Add);
        Assert.Equal(ConfigKind.Sweep, verdict.Kind);
        Assert.Equal("'resources' applies to sweeps (reccluster sweep); a train config runs one trial",
            Assert.Single(verdict.NotATrainConfig).Message);
        Assert.Throws<ConfigException>(() => ExperimentLoader.LoadTrial(oneTrialSweep));
        Assert.Single(ExperimentLoader.LoadSweep(oneTrialSweep).Models);
        Assert.Equal(2, loaded.Count);   // validate read the data of both
    }

    [Fact]
    public void Validate_reports_data_that_cannot_be_used_at_the_data_section()
    {
        var path = _files.Write("c.yaml", "name: t\ndata:\n  synthetic: {users: 5}\nmodels: {pop: {}}\n");
        var errors = Assert.Throws<ConfigException>(
            () => ExperimentLoader.Validate(path, _ => throw new DataFormatException("d.inter", 3, "bad row"))).Errors;
        Assert.Equal(new ConfigError(path, 3, 3, "the data cannot be used: d.inter:3: bad row"), Assert.Single(errors));
    }

    [Fact]
    public void Relative_data_paths_resolve_against_the_config_folder()
    {
        var sub = Directory.CreateDirectory(Path.Combine(_files.Folder, "configs")).FullName;
        _files.Write("d.inter", "user_id:token\titem_id:token\nu\ta\nu\tb\nu\tc\n");
        var path = Path.Combine(sub, "c.yaml");
        File.WriteAllText(path, "data: {path: ../d.inter}\nmodels: {pop: {}}\n");
        var config = ExperimentLoader.LoadTrial(path);
        Assert.Equal(Path.Combine(_files.Folder, "d.inter"), config.Data.Path);
    }

    [Fact]
    public void Every_listed_sasrec_hyperparameter_is_accepted()
    {
        string[] listed = ["batch_size", "eval_batch_size", "n_epochs", "negative_samples_count", "device", "hidden_size", "inner_size",
            "learning_rate", "attn_dropout_prob", "hidden_act", "hidden_dropout_prob", "n_heads", "n_layers", "layer_norm_eps",
            "initializer_range", "mask_rate", "loss_type", "max_seq_length", "sample_strategy", "append_item_features",
            "append_item_embeddings", "use_candidate_embeddings", "sample_seed", "sample_ratio", "eval_step", "early_stopping_step",
            "optimizer", "weight_decay", "adam_beta1", "adam_beta2", "length_bucket_window", "micro_batch_size", "initializer"];
        Assert.Equal(listed.Order(), ModelCatalog.ParamsOf(ModelCatalog.SasRec).Select(s => s.Name).Order());
    }

    [Fact]
    public void WarpRec_names_map_to_ours_in_one_table()
    {
        var sasrec = ExperimentLoader.LoadTrial(_files.Write("w.yaml", """
            data: {synthetic: {}}
            models:
              sasrec: {embedding_size: 32, dropout_prob: 0.3, epochs: 4, neg_samples: 2, loss_type: BCE}
            """)).Models.Single().Parameters;
        Assert.Equal((32L, 0.3, 4L, 2L), (sasrec.GetInt("hidden_size"), sasrec.GetDouble("hidden_dropout_prob"), sasrec.GetInt("n_epochs"),
            sasrec.GetInt("negative_samples_count")));
        var gru = ExperimentLoader.LoadTrial(_files.Write("g.yaml", """
            data: {synthetic: {}}
            models:
              gru4rec: {embedding_size: 128, hidden_size: 128, num_layers: 1, dropout_prob: 0.2, weight_decay: 0.0001, epochs: 20, learning_rate: 0.001, neg_samples: 2}
            """)).Models.Single().Parameters;
        Assert.Equal((20L, 2L, 128L), (gru.GetInt("n_epochs"), gru.GetInt("neg_samples"), gru.GetInt("hidden_size")));
        var caser = ExperimentLoader.LoadTrial(_files.Write("c.yaml", """
            data: {synthetic: {}}
            models:
              caser: {embedding_size: 64, n_h: 8, n_v: 4, dropout_prob: 0.5, weight_decay: 0.0, epochs: 3, learning_rate: 0.001, neg_samples: 1}
            """)).Models.Single().Parameters;
        Assert.Equal((3L, 1L), (caser.GetInt("n_epochs"), caser.GetInt("neg_samples")));
    }

    [Theory]
    [InlineData("hiden_size", "hidden_size")]
    [InlineData("n_epoch", "n_epochs")]
    [InlineData("totally_different", null)]
    public void Suggestions_catch_typos_only(string typo, string? expected) =>
        Assert.Equal(expected, Suggestions.Closest(typo, ModelCatalog.ParamsOf(ModelCatalog.SasRec).Select(s => s.Name)));
}
