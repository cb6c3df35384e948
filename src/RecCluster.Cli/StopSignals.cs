using System.Runtime.InteropServices;

namespace RecCluster.Cli;

/// <summary>SIGTERM and SIGINT (Ctrl+C) handled by the command instead of ending the process: the node and the dashboard stop
/// cleanly by themselves.</summary>
internal static class StopSignals
{
    /// <summary>Calls <paramref name="stop"/> with the signal on each SIGTERM or SIGINT until disposed.</summary>
    public static IDisposable Register(Action<PosixSignal> stop)
    {
        void Handle(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop(signal.Signal);
        }
        return new Registrations(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle));
    }

    private sealed class Registrations(params PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
