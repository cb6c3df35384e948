using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace RecCluster.Cluster.Nodes;

/// <summary>Akka's log on stderr, so that a node's stdout holds only its JSON event lines (configured in common.conf).</summary>
public sealed class StderrLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}
