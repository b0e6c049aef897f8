namespace Learngene.Models;

/// <summary>Refuses a model or a training run that cannot fit in this machine's memory before anything is
/// allocated, with one line saying how much it needs and how much there is (libtorch would otherwise fail deep
/// inside an allocation, or the kernel would kill the process). The need is an under-estimate from the config
/// (<see cref="ModelConfig.Size"/>): only what certainly cannot fit is refused.</summary>
public static class MemoryNeed
{
    /// <summary>The memory this process may use: physical memory (MemTotal), or a container's limit (cgroup v2
    /// <c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>) when lower; the .NET GC's view where neither can be read
    /// (it is 75 % of a container's limit, and libtorch's memory is not bound by it). <c>LEARNGENE_MEMORY_LIMIT_MB</c>
    /// sets it (tests, or a share of a machine).</summary>
    public static double AvailableBytes() =>
        double.TryParse(Environment.GetEnvironmentVariable("LEARNGENE_MEMORY_LIMIT_MB"), out var mb) && mb > 0 ? mb * 1048576 : Machine.Value;

    /// <summary>Read once: every config's validation asks.</summary>
    static readonly Lazy<double> Machine = new(ReadMachine);

    static double ReadMachine()
    {
        double? physical = null;
        try
        {
            if (File.Exists("/proc/meminfo") && File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:")) is { } line
                && double.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
                physical = kb * 1024;
            foreach (var limitFile in new[] { "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes" })
                if (File.Exists(limitFile) && double.TryParse(File.ReadAllText(limitFile).Trim(), out var limit) && limit > 0 && limit < (physical ?? double.MaxValue))
                    physical = limit;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return physical ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>The model's float32 weights alone must fit.</summary>
    public static void RequireModelFits(ModelConfig config)
    {
        var (parameters, _) = config.Size();
        double need = parameters * 4, have = AvailableBytes();
        if (need > have)
            throw new LearngeneException($"the model ({config.Describe()}) has about {parameters:G3} parameters, which need {Bytes(need)} of memory as float32; " +
                $"this machine has {Bytes(have)}: choose a smaller depth or width");
    }

    /// <summary>Training keeps the weights, a gradient and two AdamW moments for every trained parameter
    /// (<paramref name="trainedParameters"/>: all of them by default; fewer when most are frozen), and a batch's activations.</summary>
    public static void RequireTrainingFits(ModelConfig config, int batchSize, double? trainedParameters = null)
    {
        double need = TrainingBytes(config, batchSize, trainedParameters), have = AvailableBytes();
        if (need > have)
            throw new LearngeneException($"training {config.Describe()} with batches of {batchSize} needs at least {Bytes(need)} of memory " +
                $"(weights, gradients, AdamW's moments and the batch's activations); this machine has {Bytes(have)}: choose a smaller batch size, depth or width", setting: "batch-size");
    }

    /// <summary>The under-estimate of <see cref="RequireTrainingFits"/>: what training certainly needs.</summary>
    public static double TrainingBytes(ModelConfig config, int batchSize, double? trainedParameters = null)
    {
        var (parameters, activations) = config.Size();
        return 4 * (parameters + 3 * (trainedParameters ?? parameters) + activations * batchSize);
    }

    static string Bytes(double b) =>
        b >= 1L << 40 ? $"{b / (1L << 40):G3} TiB" : b >= 1 << 30 ? $"{b / (1 << 30):F1} GiB" : $"{b / (1 << 20):F0} MiB";
}
