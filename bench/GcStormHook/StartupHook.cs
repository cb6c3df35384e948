// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly: the runtime looks for a
// type called StartupHook outside any namespace. A background thread collects garbage and runs finalizers in
// a loop, so a native call whose arguments are only reachable from a finalizable object loses that race often.
internal static class StartupHook
{
    public static void Initialize()
    {
        var storm = new Thread(() =>
        {
            while (true) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        }) { IsBackground = true, Name = "gc-storm" };
        storm.Start();
    }
}
