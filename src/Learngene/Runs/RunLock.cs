namespace Learngene.Runs;

/// <summary>One process at a time in a run folder: a second <c>--resume</c> (or a start into the same folder)
/// while the first still trains would interleave their checkpoints. An exclusive advisory lock (flock, through
/// <see cref="FileShare.None"/>) on <c>.lock</c> in the folder, which the kernel drops when its holder dies, so a
/// killed run never leaves its folder locked.</summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = ".lock";
    readonly FileStream stream;
    readonly string runDir;

    RunLock(FileStream stream, string runDir) => (this.stream, this.runDir) = (stream, runDir);

    public static RunLock Acquire(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            // Who holds it, for the message another process shows (informative only: the lock is the flock).
            stream.SetLength(0);
            var text = System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}@{Environment.MachineName}\n");
            stream.Write(text);
            stream.Flush();
            // A killed run's half-written files go now, while nobody else can write here.
            IO.AtomicFile.RemoveTemporaries(runDir);
            return new RunLock(stream, runDir);
        }
        catch (IOException) when (File.Exists(path))
        {
            string holder = "";
            try { holder = File.ReadAllText(path).Trim(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new LearngeneException($"{runDir} is in use by another Learngene process{(holder.Length > 0 ? $" ({holder})" : "")}: wait for it to end or stop it, then --resume");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LearngeneException($"could not lock the run folder {runDir}: {IO.AtomicFile.Reason(e)}", e);
        }
    }

    /// <summary>Releases the folder, leaving no temporaries behind (a write that failed removes its own; this
    /// catches any a killed predecessor left).</summary>
    public void Dispose()
    {
        try { IO.AtomicFile.RemoveTemporaries(runDir); }
        finally { stream.Dispose(); }
    }
}
