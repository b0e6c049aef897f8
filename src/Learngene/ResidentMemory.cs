namespace Learngene;

/// <summary>This process's resident memory as Linux reports it (<c>/proc/self/status</c>), and its peak since
/// the last <see cref="ResetPeak"/>: what a dry run measures a step's activations with. Null elsewhere.</summary>
public static class ResidentMemory
{
    public static long? Current() => Read("VmRSS:");

    public static long? Peak() => Read("VmHWM:");

    /// <summary>Starts the peak again from the current resident memory (writing 5 to clear_refs); false where
    /// the kernel does not allow it.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static long? Read(string key)
    {
        try
        {
            if (!File.Exists("/proc/self/status")) return null;
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key));
            return line is not null && long.TryParse(line[key.Length..].Trim().Split(' ')[0], out var kb) ? kb * 1024 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
