namespace Learngene;

/// <summary>TorchSharp tensors hold native memory. Tensors the GC finalizes are freed on the finalizer
/// thread, concurrently with libtorch calls on the training thread, which can corrupt libtorch's heap.
/// Long runs therefore free what they can deterministically (dispose scopes, Dispose) and, at quiet
/// points such as the end of an epoch or of an experiment cell, finalize the rest while this thread waits.</summary>
public static class Native
{
    public static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
