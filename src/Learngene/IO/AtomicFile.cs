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
        string tmp = full + $".tmp{Environment.ProcessId}";
        RemoveStale(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
                // For the crash tests only: hold the half-done write open so a kill lands inside it.
                if (WriteDelay > 0) Thread.Sleep(WriteDelay);
            }
            File.Move(tmp, full, overwrite: true);
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

    /// <summary>Half-written temporaries of this file left by a killed process (its id no longer running).</summary>
    static void RemoveStale(string full)
    {
        string? dir = Path.GetDirectoryName(full);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) return;
        foreach (var stale in Directory.EnumerateFiles(dir, Path.GetFileName(full) + ".tmp*"))
        {
            if (!int.TryParse(stale[(full.Length + 4)..], out int pid) || pid == Environment.ProcessId || Alive(pid)) continue;
            try { File.Delete(stale); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool Alive(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });
}
