using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using RecCluster.Cluster.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// Mutual TLS between real node processes on 127.0.0.1, with throwaway certificates from deploy/make-certs.sh: a worker with
/// a certificate from the cluster CA joins and runs trials; one with a certificate from another CA, and one without TLS, are
/// refused (the coordinator's log says so) and never become members.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection("sweep clusters")]
public sealed class TlsClusterTests(TlsClusterTests.Certificates certificates) : IClassFixture<TlsClusterTests.Certificates>, IDisposable
{
    private const string Token = "tls-test-token-0123456789";
    private readonly string _certs = certificates.Folder;
    private SweepCluster? _cluster;

    /// <summary>Two CAs made once for the class: the cluster's (coordinator, worker) and another (rogue).</summary>
    public sealed class Certificates : IDisposable
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("reccluster-certs-").FullName;

        public Certificates()
        {
            MakeCerts(Path.Combine(Folder, "cluster"), "coordinator", "worker");
            MakeCerts(Path.Combine(Folder, "other"), "rogue");
        }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    public void Dispose() => _cluster?.Dispose();

    /// <summary>The repository's script, run as a user would.</summary>
    private static void MakeCerts(string folder, params string[] names)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "deploy", "make-certs.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, folder }.Concat(names)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "make-certs.sh did not finish within 60 s");
        Assert.True(process.ExitCode == 0, stderr.Result);
    }

    private string[] Tls(string ca, string node) =>
    [
        "--tls-cert", Path.Combine(_certs, ca, $"{node}.pfx"), "--tls-password-file", Path.Combine(_certs, ca, $"{node}.password"),
        "--tls-ca", Path.Combine(_certs, ca, "ca.crt"),
    ];

    [Fact]
    public async Task A_worker_with_the_cluster_certificate_runs_the_trials_and_workers_without_one_are_refused()
    {
        _cluster = new SweepCluster { CoordinatorArgs = Tls("cluster", "coordinator"), Token = Token };
        _cluster.StartCoordinator();
        Assert.StartsWith("akka.ssl.tcp://", _cluster.Seed);
        _cluster.Coordinator.WaitForLog("cluster traffic: mutual TLS as 'CN=coordinator");
        var (_, member) = _cluster.StartWorker("worker", [.. Tls("cluster", "worker"), "--simulate-epoch-ms", "20"]);

        // A certificate from another CA: the coordinator refuses it in the handshake, and the rogue node gives up.
        var rogue = _cluster.StartWorkerProcess("rogue", [.. Tls("other", "rogue"), "--simulate-epoch-ms", "20"]);
        _cluster.Coordinator.WaitForLog("TLS: refused");
        Assert.Contains("certificate 'CN=rogue, O=RecCluster'", _cluster.Coordinator.WaitForLog("TLS: refused"));
        Assert.Equal("tls-refused", (string?)rogue.WaitFor("stopped", e => (string?)e["event"] == "stopped")["reason"]);
        Assert.Equal(1, rogue.WaitForExit());
        rogue.WaitForLog("error: a TLS handshake with the cluster failed");

        // No TLS at all: its plain TCP never gets past the coordinator's TLS handshake.
        var plain = _cluster.StartWorkerProcess("plain", ["--simulate-epoch-ms", "20"]);
        _cluster.Coordinator.WaitForLog("due to TLS handshake failure");
        plain.WaitForLog("Association failed with akka.tcp://reccluster@127.0.0.1");

        var id = _cluster.Submit(SweepCluster.TinySweep("tls", epochs: 3));
        var end = _cluster.WaitForEnd(id);
        Assert.Equal(("finished", 4, 4), ((string)end["state"]!, (int)end["trials"]!, (int)end["completed"]!));
        Assert.All(_cluster.Finished(id).Values, row => Assert.Contains(member, row.Node, StringComparison.Ordinal));

        var cluster = _cluster.Get("/api/cluster");
        var members = cluster["members"]!.AsArray().Select(m => (string)m!["address"]!).Order().ToList();
        Assert.Equal(new[] { _cluster.Seed, member }.Order(), members);
        Assert.Equal([member], cluster["workers"]!.AsArray().Select(w => (string)w!["node"]!));
        Assert.False(plain.HasExited);   // still knocking, still not in

        // The token guards the real coordinator's API as it does the in-process one.
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(_cluster.Api, "/api/cluster"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri(_cluster.Api, "/healthz"))).StatusCode);
    }

    private static (int Exit, string Err) Worker(params string[] tls)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = RecCluster.Cli.CliApp.Run(["node", "worker", "--seeds", "akka.tcp://reccluster@127.0.0.1:1", .. tls], output, error);
        return (exit, error.ToString());
    }

    [Fact]
    public void Unusable_tls_files_are_bad_input_naming_the_file()
    {
        var cluster = Tls("cluster", "worker");
        string Other(string file) => Path.Combine(_certs, "other", file);
        // A certificate another CA signed, a wrong password, a missing CA, a CA alone.
        var (exit, err) = Worker("--tls-cert", Other("rogue.pfx"), "--tls-password-file", Other("rogue.password"), "--tls-ca", cluster[5]);
        Assert.Equal(2, exit);
        Assert.Contains($"--tls-cert {Other("rogue.pfx")}: not accepted by --tls-ca {cluster[5]}: certificate 'CN=rogue", err);
        (exit, err) = Worker("--tls-cert", cluster[1], "--tls-password-file", Other("rogue.password"), "--tls-ca", cluster[5]);
        Assert.Equal(2, exit);
        Assert.Contains($"--tls-cert {cluster[1]}: cannot read a PKCS#12 certificate with its key (wrong --tls-password-file?)", err);
        (exit, err) = Worker([.. cluster[..4], "--tls-ca", Other("missing.crt")]);
        Assert.Equal((2, true), (exit, err.Contains($"--tls-ca {Other("missing.crt")}: cannot read a certificate")));
        (exit, err) = Worker("--tls-ca", cluster[5]);
        Assert.Equal((2, "error: TLS needs both --tls-cert (RECCLUSTER_TLS_CERT) and --tls-ca (RECCLUSTER_TLS_CA)"), (exit, err.Trim()));
    }

    [Fact]
    public void Tls_can_come_from_a_config_file_and_seeds_take_the_tls_scheme()
    {
        var (cert, password, ca) = (Path.Combine(_certs, "cluster", "worker.pfx"), Path.Combine(_certs, "cluster", "worker.password"),
            Path.Combine(_certs, "cluster", "ca.crt"));
        var file = Path.Combine(_certs, "tls.conf");
        File.WriteAllText(file, $"reccluster.tls {{ certificate = \"{cert}\", password-file = \"{password}\", ca = \"{ca}\" }}\n");
        var settings = new NodeSettings(NodeRole.Worker, null, null,
            [NodeConfig.ParseSeed("akka.tcp://reccluster@127.0.0.1:4053")], 1, 0, "unused", file);
        var config = NodeConfig.Load(settings, NodeConfig.ShippedFolder);
        Assert.Equal("CN=worker, O=RecCluster", config.Tls?.Certificate.Subject);
        Assert.True(config.Hocon.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("akka.ssl.tcp://reccluster@127.0.0.1:4053", Assert.Single(config.Seeds).ToString());

        File.WriteAllText(file, $"reccluster.tls {{ certificate = \"{cert}\", ca = \"{ca}\" }}\n");   // no password: cannot open it
        var e = Assert.Throws<NodeConfigException>(
            () => NodeConfig.Load(settings, NodeConfig.ShippedFolder));
        Assert.StartsWith($"reccluster.tls.certificate {cert}: cannot read a PKCS#12", e.Message);
    }
}
