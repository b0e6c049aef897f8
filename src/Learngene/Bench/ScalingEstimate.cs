namespace Learngene.Bench;

/// <summary>A paper estimate of data-parallel training on N GPUs, from a model's measured size and MACs and a
/// stated GPU and network: compute per step = 6 × MACs × per-GPU batch / effective FLOP/s (forward 2 FLOPs per
/// MAC, backward twice the forward); ring all-reduce of the float32 gradient = 2(N−1)/N × bytes / bandwidth
/// + 2(N−1) × latency (Patarasuk and Yuan's bandwidth-optimal ring, which NCCL and Open MPI use for large
/// buffers); no overlap of the two (Learngene's trainer reduces after the backward pass; DDP overlaps them, so
/// this is its slow bound).</summary>
public sealed record ScalingEstimate(string Model, long Parameters, long MacsPerImage, int Gpus, int BatchPerGpu, double ComputeSeconds, double AllReduceSeconds)
{
    public double StepSeconds => ComputeSeconds + AllReduceSeconds;
    public double Efficiency => ComputeSeconds / StepSeconds;
    public double ImagesPerSecond => Gpus * BatchPerGpu / StepSeconds;

    /// <summary>What the estimate assumes of the hardware (stated with every table).</summary>
    public sealed record Hardware(string Name, double EffectiveFlops, int GpusPerNode, double IntraNodeBytesPerSecond, double InterNodeBytesPerSecond, double LatencySeconds)
    {
        /// <summary>A100 nodes: 312 TFLOP/s bf16 at 40% utilization, 8 GPUs on NVLink (~150 GB/s all-reduce bus
        /// bandwidth), one 200 Gb/s InfiniBand port per GPU between nodes (25 GB/s), 10 µs per ring hop.</summary>
        public static readonly Hardware A100 = new("A100 (8 per node, NVLink; InfiniBand HDR between nodes)", 312e12 * 0.4, 8, 150e9, 25e9, 10e-6);
    }

    public static ScalingEstimate For(string model, long parameters, long macsPerImage, int gpus, int batchPerGpu, Hardware hw)
    {
        double compute = 6.0 * macsPerImage * batchPerGpu / hw.EffectiveFlops;
        double bandwidth = gpus <= hw.GpusPerNode ? hw.IntraNodeBytesPerSecond : hw.InterNodeBytesPerSecond;
        double bytes = parameters * 4.0;
        double allReduce = gpus <= 1 ? 0 : 2.0 * (gpus - 1) / gpus * bytes / bandwidth + 2.0 * (gpus - 1) * hw.LatencySeconds;
        return new ScalingEstimate(model, parameters, macsPerImage, gpus, batchPerGpu, compute, allReduce);
    }
}
