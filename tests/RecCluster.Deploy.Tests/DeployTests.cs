using System.Net;
using RecCluster.Api;
using RecCluster.Cluster.Nodes;
using YamlDotNet.RepresentationModel;
using static RecCluster.Deploy.Tests.DeployFiles;

namespace RecCluster.Deploy.Tests;

/// <summary>
/// No container engine runs here, so the deploy files are checked against the code instead: their command lines go through
/// the CLI's parser, their environment variables must be ones the node's options document, ports, the health path, seeds,
/// secrets and the image's entry point must agree with each other and with the code.
/// </summary>
public sealed class DeployTests
{
    private const int HttpPort = 5080;

    /// <summary>What every node definition must satisfy, however it is deployed.</summary>
    private static (string Role, System.CommandLine.ParseResult Parse) CheckNode(string where, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string> env)
    {
        var (command, parse, variables) = CliParse(args);
        Assert.True(command.Name is "coordinator" or "worker", $"{where}: runs `{string.Join(' ', args)}`, not a node");
        foreach (var name in env.Keys.Where(k => k.StartsWith("RECCLUSTER_")))
            Assert.True(variables.Contains(name), $"{where}: {name} is not an environment variable of `reccluster node {command.Name}`");
        // TLS on by default in every deploy file: a certificate and the cluster CA.
        Assert.True(env.ContainsKey(NodeTls.CertVariable) && env.ContainsKey(NodeTls.AuthorityVariable), $"{where}: no TLS");
        Assert.True(env.ContainsKey(NodeTls.PasswordFileVariable), $"{where}: the certificate's password file is missing");
        if (command.Name == "coordinator")
        {
            var http = parse.Value<string?>("--http") ?? env.GetValueOrDefault("RECCLUSTER_HTTP");
            var endpoint = CoordinatorApi.ParseEndpoint(Assert.IsType<string>(http));
            Assert.Equal(HttpPort, endpoint.Port);
            // Off loopback the coordinator refuses to start without a token.
            if (!IPAddress.IsLoopback(endpoint.Address)) Assert.True(env.ContainsKey(ApiToken.FileVariable), $"{where}: no API token");
        }
        var roots = parse.Value<string[]>("--data-root") is { Length: > 0 } given ? given
            : env.GetValueOrDefault("RECCLUSTER_DATA_ROOTS")?.Split(':');
        Assert.True(roots is { Length: > 0 }, $"{where}: no data root");
        return (command.Name, parse);
    }

    private static Dictionary<string, string> Env(YamlNode? node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(e => e.Key.Text(), e => e.Value.Text()),
        YamlSequenceNode list => list.Children.Where(e => e.Get("value") is not null || e.Get("valueFrom") is not null)
            .ToDictionary(e => e.Get("name").Text(), e => e.Get("value") is { } v ? v.Text() : "(from the pod)"),
        _ => [],
    };

    [Fact]
    public void Compose_runs_a_tls_coordinator_with_a_token_and_workers_that_seed_from_it_with_their_secrets()
    {
        var compose = Yaml("docker-compose.yml").Single();
        var services = compose.Map("services");
        var coordinator = services.Map("coordinator");
        var worker = services.Map("worker");
        var env = Env(coordinator.Get("environment"));
        var (_, coordinatorParse) = CheckNode("compose coordinator", coordinator.Get("command").Texts(), env);
        var (_, workerParse) = CheckNode("compose worker", worker.Get("command").Texts(), Env(worker.Get("environment")));

        // The seed is the coordinator as it advertises itself: its RECCLUSTER_HOST and cluster port, over TLS.
        var seed = NodeConfig.ParseSeed(Assert.IsType<string>(workerParse.Value<string?>("--seeds")));
        Assert.Equal((NodeConfig.TlsProtocol, env["RECCLUSTER_HOST"], coordinatorParse.Value<int?>("--port")),
            (seed.Protocol, seed.Host, seed.Port));
        Assert.Equal(coordinator.Get("hostname").Text(), seed.Host);
        Assert.Equal(CoordinatorPort(), seed.Port);

        Assert.Equal([$"127.0.0.1:{HttpPort}:{HttpPort}"], coordinator.Get("ports").Texts());   // the API stays on the host's loopback
        var health = string.Join(' ', coordinator.Map("healthcheck").Get("test").Texts());
        Assert.Contains($"/dev/tcp/127.0.0.1/{HttpPort}", health);
        Assert.Contains($"GET {CoordinatorApi.HealthPath} ", health);

        // Secrets: every /run/secrets/NAME a service reads is one it is given, and declared from a file.
        var declared = compose.Map("secrets");
        foreach (var (name, service) in new[] { ("coordinator", coordinator), ("worker", worker) })
        {
            var given = service.Get("secrets").Texts();
            foreach (var path in Env(service.Get("environment")).Values.Where(v => v.StartsWith("/run/secrets/")))
            {
                var secret = path["/run/secrets/".Length..];
                Assert.True(given.Contains(secret), $"{name} reads {path} but is not given the secret '{secret}'");
                Assert.StartsWith("./secrets/", declared.Map(secret).Get("file").Text());
            }
            Assert.True(int.Parse(service.Get("stop_grace_period").Text().TrimEnd('s')) >= 30,
                $"{name}: too short a grace period to leave the cluster");
        }
        // Checkpoints: one volume all workers share; the coordinator's state its own.
        Assert.Contains("storage:/var/lib/reccluster/storage", worker.Get("volumes").Texts());
        Assert.Equal("/var/lib/reccluster/storage", Env(worker.Get("environment"))["RECCLUSTER_STORAGE"]);
        Assert.Contains("state:/var/lib/reccluster/state", coordinator.Get("volumes").Texts());
        Assert.True(File.Exists(Path.Combine(Root, "deploy", coordinator.Map("build").Get("context").Text(),
            coordinator.Map("build").Get("dockerfile").Text())));
    }

    /// <summary>Dockerfile instructions, continuation lines joined, comments dropped.</summary>
    private static List<(string Instruction, string Arguments)> Dockerfile() =>
        [.. File.ReadAllText(DeployFile("Dockerfile")).Replace("\\\n", " ").Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => (l.Split(' ', 2)[0].ToUpperInvariant(), l.Split(' ', 2).ElementAtOrDefault(1) ?? ""))];

    [Fact]
    public void The_dockerfile_publishes_the_cli_in_a_build_stage_and_runs_it_as_a_non_root_user()
    {
        var lines = Dockerfile();
        Assert.True(lines.Count(l => l.Instruction == "FROM") >= 2, "not multi-stage");
        var publish = Assert.Single(lines, l => l.Instruction == "RUN" && l.Arguments.Contains("dotnet publish")).Arguments;
        Assert.Contains("src/RecCluster.Cli/RecCluster.Cli.csproj -c Release -o /app", publish);
        Assert.True(File.Exists(Path.Combine(Root, "src/RecCluster.Cli/RecCluster.Cli.csproj")));
        // The CUDA variant: the build property the projects switch on, from a build argument.
        Assert.Contains("-p:RecClusterCuda=${RECCLUSTER_CUDA}", publish);
        Assert.Contains("<RecClusterCuda Condition", Read("Directory.Build.props"));
        Assert.Contains("'$(RecClusterCuda)' == 'true'", Read("src/RecCluster.Training/RecCluster.Training.csproj"));
        Assert.Contains(lines, l => l is ("ARG", "RECCLUSTER_CUDA=false"));
        // The TorchSharp fix runs on publish, so the image's native library is the patched one.
        Assert.Contains("AfterTargets=\"CopyFilesToOutputDirectory;Publish\"", Read("src/TorchSharpNativeFix.targets"));

        var user = lines.Last(l => l.Instruction == "USER").Arguments;
        Assert.DoesNotMatch(@"^(0|root)(:|$)", user);
        Assert.Equal(new[] { CoordinatorPort(), HttpPort }.Order(),
            lines.Where(l => l.Instruction == "EXPOSE").SelectMany(l => l.Arguments.Split(' ')).Select(int.Parse).Order());

        // The entry point: the script copied in, which runs the published executable (named after the CLI's assembly).
        var entry = lines.Single(l => l.Instruction == "ENTRYPOINT").Arguments.Trim('[', ']', '"');
        var copy = lines.Single(l => l.Instruction == "COPY" && l.Arguments.EndsWith(" " + entry)).Arguments.Split(' ')[0];
        var script = File.ReadAllText(Path.Combine(Root, copy));
        Assert.Contains("<AssemblyName>reccluster</AssemblyName>", Read("src/RecCluster.Cli/RecCluster.Cli.csproj"));
        Assert.Contains("exec /app/reccluster \"$@\"", script);
        Assert.True(CliParse(["node", "worker", "--help"]).Command.Name == "worker");

        foreach (var env in lines.Where(l => l.Instruction == "ENV"))
            foreach (var name in VariablesIn(env.Arguments))
                Assert.True(CliParse(["node", "coordinator"]).Variables.Contains(name) || CliParse(["node", "worker"]).Variables.Contains(name),
                    $"Dockerfile sets {name}, which no node option reads");
    }

    [Fact]
    public void Kubernetes_runs_the_coordinator_as_a_statefulset_seeded_through_a_headless_service_and_gpu_workers()
    {
        var docs = Yaml("k8s/reccluster.yaml");
        YamlMappingNode Kind(string kind, string name) =>
            docs.Single(d => d.Get("kind").Text() == kind && d.Map("metadata").Get("name").Text() == name);
        var statefulSet = Kind("StatefulSet", "reccluster-coordinator");
        var headless = Kind("Service", statefulSet.Map("spec").Get("serviceName").Text());
        Assert.Equal("None", headless.Map("spec").Get("clusterIP").Text());
        Assert.Equal("true", headless.Map("spec").Get("publishNotReadyAddresses").Text());
        Assert.Equal("1", statefulSet.Map("spec").Get("replicas").Text());
        Assert.Equal("state", statefulSet.Map("spec").Get("volumeClaimTemplates").Items().Single().Map("metadata").Get("name").Text());

        var pod = statefulSet.Map("spec").Map("template").Map("spec");
        Assert.True(int.Parse(pod.Get("terminationGracePeriodSeconds").Text()) >= 30);
        var container = pod.Get("containers").Items().Single();
        var env = Env(container.Get("env"));
        var (_, coordinator) = CheckNode("k8s coordinator", container.Get("args").Texts(), env);
        var ports = container.Get("ports").Items().ToDictionary(p => p.Get("name").Text(), p => int.Parse(p.Get("containerPort").Text()));
        Assert.Equal((HttpPort, CoordinatorPort()), (ports["http"], ports["cluster"]));
        Assert.Equal(coordinator.Value<int?>("--port"), ports["cluster"]);
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var get = container.Map(probe).Map("httpGet");
            Assert.Equal((CoordinatorApi.HealthPath, "http"), (get.Get("path").Text(), get.Get("port").Text()));
        }
        // It advertises the name the headless service gives its pod, which is what the workers dial.
        Assert.Equal($"$(POD_NAME).{headless.Map("metadata").Get("name").Text()}.$(POD_NAMESPACE).svc.cluster.local", env["RECCLUSTER_HOST"]);
        string Expand(string text) => text.Replace("$(POD_NAME)", statefulSet.Map("metadata").Get("name").Text() + "-0")
            .Replace("$(POD_NAMESPACE)", "team-a");

        var deployment = Kind("Deployment", "reccluster-worker");
        var workerPod = deployment.Map("spec").Map("template").Map("spec");
        Assert.True(int.Parse(workerPod.Get("terminationGracePeriodSeconds").Text()) >= 30);
        var worker = workerPod.Get("containers").Items().Single();
        Assert.EndsWith(":cuda", worker.Get("image").Text());
        Assert.Equal("1", worker.Map("resources").Map("limits").Get("nvidia.com/gpu").Text());
        var (_, workerParse) = CheckNode("k8s worker", worker.Get("args").Texts().Select(Expand).ToList(), Env(worker.Get("env")));
        var seed = NodeConfig.ParseSeed(Assert.IsType<string>(workerParse.Value<string?>("--seeds")));
        Assert.Equal((NodeConfig.TlsProtocol, ports["cluster"]), (seed.Protocol, seed.Port));
        // The name the coordinator advertises, as Kubernetes expands it in pod 0 of the StatefulSet.
        Assert.Equal(Expand(env["RECCLUSTER_HOST"]), seed.Host);

        // Every secret file a node reads is mounted from a secret; no container can gain privileges or keeps capabilities.
        foreach (var c in new[] { container, worker })
        {
            var security = c.Map("securityContext");
            Assert.Equal(("false", "ALL"), (security.Get("allowPrivilegeEscalation").Text(),
                security.Map("capabilities").Get("drop").Texts().Single()));
            var mounts = c.Get("volumeMounts").Items().Select(m => m.Get("mountPath").Text()).ToList();
            foreach (var path in Env(c.Get("env")).Values.Where(v => v.StartsWith("/run/secrets/")))
                Assert.Contains(Path.GetDirectoryName(path)!, mounts);
        }
    }

    /// <summary>A systemd unit's [Service] keys (repeated keys keep every value).</summary>
    private static ILookup<string, string> Unit(string name) =>
        File.ReadAllLines(DeployFile($"systemd/{name}")).Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('='))
            .ToLookup(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    [Theory]
    [InlineData("reccluster-coordinator.service", "coordinator.env.example")]
    [InlineData("reccluster-worker.service", "worker.env.example")]
    public void Systemd_units_run_a_node_with_its_credentials_and_leave_on_sigterm(string unit, string example)
    {
        var keys = Unit(unit);
        var exec = keys["ExecStart"].Single().Split(' ');
        Assert.Equal("/opt/reccluster/reccluster", exec[0]);
        var env = keys["Environment"].Select(e => e.Split('=', 2)).ToDictionary(e => e[0], e => e[1]);
        foreach (var line in File.ReadAllLines(DeployFile($"systemd/{example}")).Where(l => l.Contains('=') && !l.StartsWith('#')))
            env[line.Split('=', 2)[0]] = line.Split('=', 2)[1];
        Assert.Equal($"/etc/reccluster/{example.Replace(".example", "")}", keys["EnvironmentFile"].Single());
        CheckNode(unit, exec[1..], env);
        Assert.Equal("SIGTERM", keys["KillSignal"].Single());
        Assert.True(int.Parse(keys["TimeoutStopSec"].Single()) >= 30);
        Assert.Equal("2", keys["RestartPreventExitStatus"].Single());   // bad input: restarting would not help
        // Credentials: every %d/NAME the unit points a variable at is loaded.
        var credentials = keys["LoadCredential"].Select(c => c.Split(':')[0]).ToHashSet();
        foreach (var value in env.Values.Where(v => v.StartsWith("%d/"))) Assert.Contains(value[3..], credentials);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_certificate_script_is_executable_and_writes_what_the_deploy_files_read()
    {
        var script = DeployFile("make-certs.sh");
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute));
        var text = File.ReadAllText(script);
        foreach (var file in new[] { "ca.crt", "$name.pfx", "$name.password" }) Assert.Contains($"\"$out/{file}\"", text);
        var compose = File.ReadAllText(DeployFile("docker-compose.yml"));
        Assert.Contains("deploy/make-certs.sh deploy/secrets coordinator worker", compose);
    }
}
