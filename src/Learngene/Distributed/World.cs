using System.Runtime.InteropServices;
using System.Text;

namespace Learngene.Distributed;

/// <summary>The processes of one job: this process's rank and how many there are. Started by <c>mpirun -np N</c>
/// or <c>srun</c> (N &gt; 1) it is MPI's <c>MPI_COMM_WORLD</c>; started plainly it is a world of one, and no MPI
/// library is loaded. Every collective here must be called by every rank in the same order, as MPI requires.</summary>
public sealed unsafe class World
{
    readonly OpenMpi? mpi;
    public int Rank { get; }
    public int Size { get; }
    public bool IsRoot => Rank == 0;
    public bool IsDistributed => Size > 1;

    World(OpenMpi? mpi, int rank, int size) { this.mpi = mpi; Rank = rank; Size = size; }

    /// <summary>A world of one process (no MPI).</summary>
    public static World Single { get; } = new(null, 0, 1);

    static readonly Lazy<World> current = new(Join, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The job this process belongs to: MPI's world when a launcher started several ranks, else <see cref="Single"/>.</summary>
    public static World Current => current.Value;

    /// <summary>True once <see cref="Current"/> has joined MPI (so that exit can finalize or abort it).</summary>
    public static bool Joined => current.IsValueCreated && current.Value.mpi is not null;

    /// <summary>The number of ranks a launcher started, from its environment: Open MPI's mpirun, a PMI/PMIx
    /// launcher, or a Slurm job step (srun; not the batch script itself, which is one process).</summary>
    public static int LaunchedRanks() => EnvInt("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS") is > 0 and var n ? n : 1;

    /// <summary>This process's rank as its launcher set it (before MPI starts; 0 when not launched as a rank).</summary>
    public static int LaunchedRank() => LaunchedRanks() > 1 ? EnvInt("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID") ?? 0 : 0;

    /// <summary>This rank's index among the ranks of its node (which GPU it takes), and how many share the node
    /// (how many CPU threads each gets).</summary>
    public static int LocalRank() => EnvInt("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID") ?? 0;
    public static int LocalRanks() => EnvInt("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_TASKS_PER_NODE") ?? 1;

    static int? EnvInt(params string[] names)
    {
        foreach (var name in names)
            // Slurm writes tasks per node as "2(x3)" for three nodes of two.
            if (Environment.GetEnvironmentVariable(name) is { } v && int.TryParse(v.Split('(', ',')[0], out int n) && n >= 0) return n;
        return null;
    }

    static World Join()
    {
        if (LaunchedRanks() <= 1) return Single;
        // Before MPI_Init, in the C environment that Open MPI reads (.NET keeps its own copy of the variables):
        // .NET handles SIGSEGV and SIGFPE itself (null references, division by zero) and must keep them, and in
        // containers the shared-memory transport's cross-memory attach is often forbidden.
        Posix.SetDefault("OMPI_MCA_opal_signal", "");
        Posix.SetDefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
        var mpi = OpenMpi.Load();
        if (!mpi.IsInitialized)
        {
            int provided = mpi.InitThread(OpenMpi.ThreadSerialized);
            if (provided < OpenMpi.ThreadSerialized)
                throw new LearngeneException($"the MPI library gives thread level {provided}; Learngene needs MPI_THREAD_SERIALIZED (2)");
        }
        var world = new World(mpi, mpi.Rank(), mpi.Size());
        // A launcher that started N processes without telling MPI (srun without PMIx, an MPI without Slurm
        // support) leaves N worlds of one, which would all train alone and write the same run folder.
        if (world.Size != LaunchedRanks())
            throw new LearngeneException($"the launcher started {LaunchedRanks()} processes, but MPI sees {world.Size}: under Slurm use srun --mpi=pmix (and an Open MPI built with Slurm/PMIx support), or mpirun");
        return world;
    }

    static class Posix
    {
        [DllImport("libc.so.6", EntryPoint = "setenv")] static extern int SetEnv(string name, string value, int overwrite);
        public static void SetDefault(string name, string value) => SetEnv(name, value, 0);
    }

    OpenMpi Mpi => mpi ?? throw new InvalidOperationException("a world of one has no MPI");

    /// <summary>Ends MPI normally (every rank, at exit).</summary>
    public static void Finish()
    {
        if (Joined && !current.Value.Mpi.IsFinalized) current.Value.Mpi.End();
    }

    /// <summary>Stops every rank of the job: one that failed must not leave the others waiting in a collective.</summary>
    public static void AbortAll(int code)
    {
        if (Joined) current.Value.Mpi.Abort(code);
    }

    /// <summary>Largest elements per MPI call (counts are C ints).</summary>
    const int Chunk = 1 << 28;

    public void Barrier() { if (IsDistributed) Mpi.Barrier(); }

    /// <summary>Element-wise sum over the ranks, in place on every rank.</summary>
    public void SumInPlace(Span<double> values) { if (IsDistributed) Reduce(values, Mpi.Sum); }

    /// <summary>Element-wise maximum over the ranks, in place on every rank.</summary>
    public void MaxInPlace(Span<double> values) { if (IsDistributed) Reduce(values, Mpi.Max); }

    void Reduce(Span<double> values, IntPtr op)
    {
        fixed (double* p = values)
            for (int at = 0; at < values.Length; at += Chunk) Mpi.AllReduceInPlace(p + at, Math.Min(Chunk, values.Length - at), Mpi.Double, op);
    }

    /// <summary>Sum over the ranks of raw float32 memory (a tensor's), in place.</summary>
    public void SumInPlace(IntPtr floats, long count)
    {
        if (!IsDistributed) return;
        var p = (float*)floats;
        for (long at = 0; at < count; at += Chunk) Mpi.AllReduceInPlace(p + at, (int)Math.Min(Chunk, count - at), Mpi.Float, Mpi.Sum);
    }

    /// <summary>Rank 0's bytes on every rank, in place (the same length everywhere).</summary>
    public void Broadcast(IntPtr bytes, long count)
    {
        if (!IsDistributed) return;
        var p = (byte*)bytes;
        for (long at = 0; at < count; at += Chunk) Mpi.Broadcast(p + at, (int)Math.Min(Chunk, count - at), Mpi.Byte, 0);
    }

    /// <summary>Rank 0's <paramref name="data"/> (ignored elsewhere) on every rank: length first, then bytes.</summary>
    public byte[] Broadcast(byte[]? data)
    {
        if (!IsDistributed) return data ?? [];
        double[] length = [IsRoot ? (data ?? []).Length : 0];
        fixed (double* p = length) Mpi.Broadcast(p, 1, Mpi.Double, 0);
        var buffer = IsRoot ? data ?? [] : new byte[(int)length[0]];
        fixed (byte* p = buffer) Broadcast((IntPtr)p, buffer.Length);
        return buffer;
    }

    public string Broadcast(string? text) => Encoding.UTF8.GetString(Broadcast(text is null ? null : Encoding.UTF8.GetBytes(text)));

    /// <summary>True on every rank when <paramref name="flag"/> is true on any.</summary>
    public bool Any(bool flag)
    {
        if (!IsDistributed) return flag;
        Span<double> v = [flag ? 1 : 0];
        MaxInPlace(v);
        return v[0] > 0;
    }

    /// <summary>Point to point, for handing out work: a message of bytes with a tag.</summary>
    public void Send(int to, int tag, byte[] data)
    {
        fixed (byte* p = data) Mpi.Send(p, data.Length, Mpi.Byte, to, tag);
    }

    /// <summary>The next message from <paramref name="from"/> (or any rank) with <paramref name="tag"/> (or any).
    /// It polls with short sleeps rather than block in MPI: a blocking receive spins a core, which a rank that
    /// mostly waits (a coordinator, a worker waiting for another's cell) would take from those that compute.</summary>
    public (int From, int Tag, byte[] Data) Receive(int from = OpenMpi.AnySource, int tag = OpenMpi.AnyTag)
    {
        OpenMpi.Status status;
        while (true)
        {
            if (Mpi.TryProbe(from, tag) is { } waiting) { status = waiting; break; }
            Thread.Sleep(2);
        }
        var data = new byte[Mpi.Count(status, Mpi.Byte)];
        fixed (byte* p = data) Mpi.Receive(p, data.Length, Mpi.Byte, status.Source, status.Tag);
        return (status.Source, status.Tag, data);
    }

    public override string ToString() => IsDistributed ? $"rank {Rank} of {Size} (Open MPI, {mpi!.LibraryPath})" : "one process";
}
