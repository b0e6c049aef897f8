using System.Buffers.Binary;
using System.IO.Compression;

namespace Learngene.Data;

/// <summary>The MNIST IDX format (raw or gzipped): a 4-byte magic (0, 0, type 0x08 = ubyte, rank),
/// big-endian dimensions, then the data.</summary>
public static class IdxReader
{
    /// <summary>The largest IDX payload read (1 GiB: 4× ImageNet-64's training images would not fit anyway).</summary>
    const long MaxBytes = 1L << 30;

    public static (int[] Shape, byte[] Data) Read(string path)
    {
        if (!File.Exists(path)) throw new LearngeneException($"file not found: {path}");
        byte[] bytes;
        try
        {
            using var fs = File.OpenRead(path);
            using Stream s = IsGzip(fs) ? new GZipStream(fs, CompressionMode.Decompress) : fs;
            using var ms = new MemoryStream();
            // A bounded copy: a damaged or hostile gzip stream cannot inflate without limit.
            var buffer = new byte[1 << 16];
            for (int n; (n = s.Read(buffer)) > 0;)
            {
                if (ms.Length + n > MaxBytes) throw new LearngeneException($"{path}: more than {MaxBytes >> 20} MiB of data (not an image set this reader takes)");
                ms.Write(buffer, 0, n);
            }
            bytes = ms.ToArray();
        }
        catch (InvalidDataException) { throw new LearngeneException($"{path}: corrupt gzip stream (truncated or damaged)"); }
        catch (EndOfStreamException) { throw new LearngeneException($"{path}: corrupt gzip stream (truncated)"); }

        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new LearngeneException($"{path}: not an IDX file (bad magic number)");
        if (bytes[2] != 0x08) throw new LearngeneException($"{path}: IDX element type 0x{bytes[2]:x2} is not supported (only unsigned bytes)");
        int rank = bytes[3];
        if (rank < 1 || rank > 4 || bytes.Length < 4 + 4 * rank) throw new LearngeneException($"{path}: IDX header is truncated or has rank {rank}");
        var shape = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (shape[i] < 0) throw new LearngeneException($"{path}: IDX header has a negative dimension");
            expected = Math.Min(expected * shape[i], MaxBytes + 1); // dims up to 2³¹ each: kept from overflowing
        }
        int offset = 4 + 4 * rank;
        if (bytes.Length - offset != expected)
            throw new LearngeneException($"{path}: IDX header promises {expected} bytes of data but the file has {bytes.Length - offset} (truncated or corrupt)");
        return (shape, bytes[offset..]);
    }

    static bool IsGzip(FileStream fs)
    {
        int a = fs.ReadByte(), b = fs.ReadByte();
        fs.Position = 0;
        return a == 0x1f && b == 0x8b;
    }

    /// <summary>Writes an IDX ubyte file (used by the tests and by anyone exporting data).</summary>
    public static void Write(string path, int[] shape, byte[] data, bool gzip = false)
    {
        using var fs = File.Create(path);
        using Stream s = gzip ? new GZipStream(fs, CompressionLevel.Fastest) : fs;
        s.Write([0, 0, 0x08, (byte)shape.Length]);
        Span<byte> dim = stackalloc byte[4];
        foreach (int d in shape) { BinaryPrimitives.WriteInt32BigEndian(dim, d); s.Write(dim); }
        s.Write(data);
    }
}
