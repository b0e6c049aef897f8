namespace Learngene.IO;

/// <summary>Write-then-rename, so an interrupted write never leaves a half file in place of a good one.</summary>
public static class AtomicFile
{
    static readonly int WriteDelay = int.TryParse(Environment.GetEnvironmentVariable("LEARNGENE_TEST_WRITE_DELAY_MS"), out int ms) ? ms : 0;

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        try { if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new LearngeneException($"could not create the folder {dir}: {Reason(e)}", e); }
        // A unique temporary, locked while it is written: another process (a rank, a container sharing the volume)
        // may write the same file, and a killed writer's leftover is recognised by nobody holding its lock.
        string tmp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        RemoveStale(full);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; it is held through the rename,
            // so a cleaner never sees this temporary unlocked before it has become the file.
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
                // For the crash tests only: hold the half-done write open so a kill lands inside it.
                if (WriteDelay > 0) Thread.Sleep(WriteDelay);
                File.Move(tmp, full, overwrite: true);
            }
        }
        catch (Exception e)
        {
            try { if (File.Exists(tmp)) File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // A full disk or a read-only folder: one line naming the file; the previous version is untouched.
            if (e is IOException or UnauthorizedAccessException)
                throw new LearngeneException($"could not write {full}: {Reason(e)} (the previous version of the file, if any, is kept)", e);
            throw;
        }
    }

    /// <summary>The system's reason alone (.NET appends " : 'path'" to it; the callers name the file themselves).</summary>
    public static string Reason(Exception e) =>
        System.Text.RegularExpressions.Regex.Replace(e.Message.Split('\n')[0], @"\s*:\s*'[^']*'\s*$", "");

    /// <summary>A writer opens its temporary and then locks it (two system calls): a temporary this young may be
    /// between the two, so it is left alone even when unlocked.</summary>
    static readonly TimeSpan Settled = TimeSpan.FromSeconds(2);

    /// <summary>Half-written temporaries of this file left by a killed writer: those whose lock nobody holds
    /// (the kernel drops a dead process's locks). A live writer's temporary cannot be opened exclusively.</summary>
    static void RemoveStale(string full)
    {
        string? dir = Path.GetDirectoryName(full);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) return;
        foreach (var stale in Directory.EnumerateFiles(dir, Path.GetFileName(full) + ".tmp*"))
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(stale) < Settled) continue;
                using var locked = new FileStream(stale, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(stale); // unlinked while we hold its lock: no writer can be inside it
            }
            catch (IOException) { } // being written (locked) or already gone
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Every killed writer's temporary in <paramref name="dir"/> (any file's, any age), for a caller that holds
    /// the folder's run lock: no other writer of ours can then be between creating a temporary and locking it, so
    /// age is no evidence and only a held lock keeps one. A finished or restarted run leaves no half-written files.</summary>
    public static void RemoveTemporaries(string dir)
    {
        string[] candidates;
        try { candidates = Directory.GetFiles(dir, "*.tmp-*"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; } // gone or unreadable: nothing to clean
        foreach (var stale in candidates)
        {
            if (!TemporaryName.IsMatch(Path.GetFileName(stale))) continue; // not one of ours
            try
            {
                using var locked = new FileStream(stale, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(stale);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    static readonly System.Text.RegularExpressions.Regex TemporaryName = new(@"\.tmp-[0-9a-f]{32}$");

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });
}
