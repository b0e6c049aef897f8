namespace Learngene.Training;

/// <summary>A request to stop training cleanly (Ctrl-C, SIGTERM): the trainer finishes the step it is in and
/// stops with a <see cref="TrainingInterrupted"/>, leaving the run folder as its last checkpoint wrote it, so
/// <c>--resume</c> continues exactly. Process-wide, as the signal is.</summary>
public static class StopSignal
{
    static volatile bool requested;
    static int training;

    public static bool Requested => requested;

    /// <summary>True while a training loop runs (and so will look at the signal); elsewhere a signal should
    /// act as usual, stopping the process at once.</summary>
    public static bool Training => Volatile.Read(ref training) > 0;

    /// <summary>Marks a training loop as running until the returned handle is disposed.</summary>
    public static IDisposable Listen()
    {
        Interlocked.Increment(ref training);
        return new Listening();
    }

    sealed class Listening : IDisposable
    {
        int disposed;
        public void Dispose() { if (Interlocked.Exchange(ref disposed, 1) == 0) Interlocked.Decrement(ref training); }
    }

    public static void Request() => requested = true;

    /// <summary>For tests that request a stop in-process.</summary>
    public static void Reset() => requested = false;
}

/// <summary>Training stopped on request; nothing after the last checkpoint was written.</summary>
public sealed class TrainingInterrupted(string message) : OperationCanceledException(message);
