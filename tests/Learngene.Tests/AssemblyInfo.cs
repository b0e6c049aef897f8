// torch.manual_seed and the thread pool of libtorch are process-wide: tests that seed and compare runs
// must not interleave with others, so the suite runs one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
