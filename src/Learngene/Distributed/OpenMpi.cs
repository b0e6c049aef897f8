using System.Runtime.InteropServices;

namespace Learngene.Distributed;

/// <summary>The few MPI calls Learngene makes, bound to Open MPI's C library (<c>libmpi.so.40</c>, Debian's
/// <c>libopenmpi3</c>; the same library on Slurm clusters built with Open MPI). Open MPI's handles
/// (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>…) are addresses of global objects exported by the
/// library (<c>ompi_mpi_comm_world</c>…), looked up once; MPICH-family libraries use integer handles and a
/// different status layout, so they are refused by name rather than misused.
/// Loaded only when a launcher (mpirun, srun) started the process: without one, nothing here runs.</summary>
internal sealed unsafe class OpenMpi
{
    public const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED in Open MPI's mpi.h
    public const int AnySource = -1, AnyTag = -1;
    static readonly IntPtr InPlace = 1; // MPI_IN_PLACE is ((void *) 1) in Open MPI

    [StructLayout(LayoutKind.Sequential)]
    public struct Status { public int Source, Tag, Error, Cancelled; public nuint UCount; } // Open MPI's MPI_Status

    public readonly IntPtr CommWorld, Float, Double, Byte, Sum, Max;

    readonly delegate* unmanaged<int*, int> initialized, finalized;
    readonly delegate* unmanaged<IntPtr, IntPtr, int, int*, int> initThread;
    readonly delegate* unmanaged<int> finalize;
    readonly delegate* unmanaged<IntPtr, int*, int> commRank, commSize;
    readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> allreduce;
    readonly delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> bcast;
    readonly delegate* unmanaged<IntPtr, int> barrier;
    readonly delegate* unmanaged<IntPtr, int, int> abort;
    readonly delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, int> send;
    readonly delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, Status*, int> recv;
    readonly delegate* unmanaged<int, int, IntPtr, int*, Status*, int> iprobe;
    readonly delegate* unmanaged<Status*, IntPtr, int*, int> getCount;

    public string LibraryPath { get; }

    OpenMpi(IntPtr lib, string path)
    {
        LibraryPath = path;
        IntPtr Sym(string name) => NativeLibrary.TryGetExport(lib, name, out var p) ? p
            : throw new LearngeneException($"{path} has no symbol {name}: Learngene's MPI layer needs Open MPI (MPICH and Intel MPI use another binary interface); " +
                                           "set LEARNGENE_MPI_LIBRARY to Open MPI's libmpi.so");
        CommWorld = Sym("ompi_mpi_comm_world"); Float = Sym("ompi_mpi_float"); Double = Sym("ompi_mpi_double");
        Byte = Sym("ompi_mpi_byte"); Sum = Sym("ompi_mpi_op_sum"); Max = Sym("ompi_mpi_op_max");
        initialized = (delegate* unmanaged<int*, int>)Sym("MPI_Initialized");
        finalized = (delegate* unmanaged<int*, int>)Sym("MPI_Finalized");
        initThread = (delegate* unmanaged<IntPtr, IntPtr, int, int*, int>)Sym("MPI_Init_thread");
        finalize = (delegate* unmanaged<int>)Sym("MPI_Finalize");
        commRank = (delegate* unmanaged<IntPtr, int*, int>)Sym("MPI_Comm_rank");
        commSize = (delegate* unmanaged<IntPtr, int*, int>)Sym("MPI_Comm_size");
        allreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)Sym("MPI_Allreduce");
        bcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)Sym("MPI_Bcast");
        barrier = (delegate* unmanaged<IntPtr, int>)Sym("MPI_Barrier");
        abort = (delegate* unmanaged<IntPtr, int, int>)Sym("MPI_Abort");
        send = (delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, int>)Sym("MPI_Send");
        recv = (delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, Status*, int>)Sym("MPI_Recv");
        iprobe = (delegate* unmanaged<int, int, IntPtr, int*, Status*, int>)Sym("MPI_Iprobe");
        getCount = (delegate* unmanaged<Status*, IntPtr, int*, int>)Sym("MPI_Get_count");
    }

    /// <summary>Loads the library with its symbols global: Open MPI opens its components (transports, the
    /// process manager's client) as plugins that look for libmpi's symbols, which a local load hides.</summary>
    public static OpenMpi Load()
    {
        var candidates = Environment.GetEnvironmentVariable("LEARNGENE_MPI_LIBRARY") is { Length: > 0 } given
            ? [given] : new[] { "libmpi.so.40", "libmpi.so" };
        string why = "";
        foreach (var name in candidates)
        {
            IntPtr handle = Dl.Open(name, Dl.Now | Dl.Global);
            if (handle != IntPtr.Zero) return new OpenMpi(handle, name);
            why = Dl.LastError();
        }
        throw new LearngeneException($"this process was started by an MPI launcher, but Open MPI's library ({string.Join(" or ", candidates)}) " +
                                     $"could not be loaded ({why}): install it (Debian: apt-get install openmpi-bin) or set LEARNGENE_MPI_LIBRARY");
    }

    static class Dl
    {
        public const int Now = 2, Global = 0x100; // RTLD_NOW, RTLD_GLOBAL (glibc)
        // libdl.so.2: dlopen's home before glibc 2.34 (RHEL 8 clusters), a stub forwarding to libc after.
        [DllImport("libdl.so.2", EntryPoint = "dlopen")] public static extern IntPtr Open(string file, int mode);
        [DllImport("libdl.so.2", EntryPoint = "dlerror")] static extern IntPtr Error();
        public static string LastError() => Marshal.PtrToStringUTF8(Error()) ?? "";
    }

    static void Check(int code, string call)
    {
        if (code != 0) throw new LearngeneException($"{call} failed with MPI error {code}");
    }

    public bool IsInitialized { get { int f; Check(initialized(&f), "MPI_Initialized"); return f != 0; } }
    public bool IsFinalized { get { int f; Check(finalized(&f), "MPI_Finalized"); return f != 0; } }

    public int InitThread(int required)
    {
        int provided;
        Check(initThread(IntPtr.Zero, IntPtr.Zero, required, &provided), "MPI_Init_thread");
        return provided;
    }

    public void End() => Check(finalize(), "MPI_Finalize");
    public int Rank() { int r; Check(commRank(CommWorld, &r), "MPI_Comm_rank"); return r; }
    public int Size() { int s; Check(commSize(CommWorld, &s), "MPI_Comm_size"); return s; }
    public void Barrier() => Check(barrier(CommWorld), "MPI_Barrier");
    public void Abort(int code) => abort(CommWorld, code);

    public void AllReduceInPlace(void* buffer, int count, IntPtr type, IntPtr op) =>
        Check(allreduce(InPlace, (IntPtr)buffer, count, type, op, CommWorld), "MPI_Allreduce");

    public void Broadcast(void* buffer, int count, IntPtr type, int root) =>
        Check(bcast((IntPtr)buffer, count, type, root, CommWorld), "MPI_Bcast");

    public void Send(void* buffer, int count, IntPtr type, int dest, int tag) =>
        Check(send((IntPtr)buffer, count, type, dest, tag, CommWorld), "MPI_Send");

    /// <summary>A waiting message's envelope, or null when there is none yet (does not block).</summary>
    public Status? TryProbe(int source, int tag)
    {
        Status s;
        int flag;
        Check(iprobe(source, tag, CommWorld, &flag, &s), "MPI_Iprobe");
        return flag != 0 ? s : null;
    }

    public int Count(Status status, IntPtr type)
    {
        int n;
        Check(getCount(&status, type, &n), "MPI_Get_count");
        return n;
    }

    public Status Receive(void* buffer, int count, IntPtr type, int source, int tag)
    {
        Status s;
        Check(recv((IntPtr)buffer, count, type, source, tag, CommWorld, &s), "MPI_Recv");
        return s;
    }
}
