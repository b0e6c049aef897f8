using System.Runtime.InteropServices;

namespace Learngene;

/// <summary>Keeps glibc's malloc from handing every training step's activations back to the kernel. By
/// default glibc serves large blocks with mmap and trims the heap top on free, so each step's buffers are
/// mapped, page-faulted and unmapped again: on a width-128 DiT step that was a third of the CPU time in the
/// kernel, and raising both thresholds made training 1.8× faster (93 → 167 images/s, measured back to back
/// on this machine, README "Platform notes"). The CLI applies it at start (a process-wide setting, so a host
/// of the library opts in by calling <see cref="Tune"/>; the test process does not); on Linux with glibc
/// only, and <c>LEARNGENE_MALLOC=default</c> leaves malloc alone. The price of never trimming is that the heap
/// keeps its high-water mark: a long experiment's heap held 1.8 GB of which 250 MB were in use, so
/// <see cref="Trim"/> hands the free pages back at quiet points (the end of an epoch or of a cell).</summary>
public static class NativeAllocator
{
    const int TrimThreshold = -1, MmapThreshold = -3; // mallopt's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    const int MaxMmapThreshold = 32 << 20;            // glibc's ceiling on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>True when the thresholds were raised.</summary>
    public static bool Tuned { get; private set; }

    /// <summary>Raises the thresholds (once; call before the first tensor).</summary>
    public static void Tune()
    {
        if (Tuned) return;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("LEARNGENE_MALLOC") == "default") return;
        try { Tuned = Mallopt(MmapThreshold, MaxMmapThreshold) == 1 & Mallopt(TrimThreshold, int.MaxValue) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc: nothing to tune
    }

    /// <summary>Returns the heap's free pages to the kernel (glibc's malloc_trim: the top of the heap and every
    /// free page inside it); a no-op unless <see cref="Tune"/> raised the thresholds.</summary>
    public static void Trim()
    {
        if (Tuned) MallocTrim(0);
    }
}
