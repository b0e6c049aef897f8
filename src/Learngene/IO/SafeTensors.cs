using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.IO;

/// <summary>Reads and writes the safetensors format (8-byte header length, JSON header, raw
/// little-endian data) including its <c>__metadata__</c> string map. TorchSharp.PyBridge 1.4.4 reads
/// and writes the tensors but drops the metadata, which every Learngene file needs; the tests check that
/// files written here load in PyBridge and the other way round.</summary>
public static partial class SafeTensors
{
    const long MaxHeaderBytes = 100_000_000;

    /// <summary>The format's header is UTF-8 JSON: anything else is refused, not silently replaced.</summary>
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The one-line error for a file that is not (valid) safetensors.</summary>
    static LearngeneException Invalid(string path, string why) => new($"{path} is not a valid safetensors file: {why}");

    /// <summary>The version of the files this build writes (major.minor) and the highest major it reads. A file
    /// from a newer major version is refused with a clear error rather than misread.</summary>
    public const string FormatVersion = "1.1";
    const int ReadableMajor = 1;
    public const string VersionKey = "format_version";
    /// <summary>The SHA-256 (hex) of the data section (every byte after the header), checked at load: the header
    /// is validated by parsing, the weights only by this. Files from elsewhere, without it, load unchecked; a file
    /// with <see cref="VersionKey"/> must have it. It covers the tensor bytes, not the metadata (which other tools
    /// rewrite and which is checked by parsing).</summary>
    public const string HashKey = "data_sha256";
    /// <summary>The SHA-256 (hex) of the metadata (every entry but the two hashes, in a fixed encoding), checked at
    /// load: a changed normalisation or optimizer step is as corrupt as a changed weight. Required from format 1.1;
    /// files of 1.0 and files from elsewhere load without it.</summary>
    public const string MetadataHashKey = "metadata_sha256";

    /// <summary>Bytes moved per read, write or hash call: large tensors go through in pieces, never as one array.</summary>
    const int Chunk = 64 << 20;

    static readonly Dictionary<ScalarType, (string Name, int Size)> Dtypes = new()
    {
        [ScalarType.Float32] = ("F32", 4), [ScalarType.Float64] = ("F64", 8), [ScalarType.Float16] = ("F16", 2),
        [ScalarType.BFloat16] = ("BF16", 2), [ScalarType.Int64] = ("I64", 8), [ScalarType.Int32] = ("I32", 4),
        [ScalarType.Int16] = ("I16", 2), [ScalarType.Int8] = ("I8", 1), [ScalarType.Byte] = ("U8", 1),
        [ScalarType.Bool] = ("BOOL", 1),
    };

    /// <summary>Writes the tensors (sorted by name) and metadata to <paramref name="path"/> atomically:
    /// the file appears whole or not at all, and an existing file is replaced only on success.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        // Temporaries are freed here, on this thread: tensors left to the GC's finalizer thread race with
        // libtorch calls on the training thread (a segfault in a long experiment run was traced to this).
        using var scope = torch.NewDisposeScope();
        long offset = 0;
        var data = new List<Tensor>();
        var entries = new List<(string Name, string Dtype, long[] Shape, long Begin, long End)>();
        foreach (var name in names)
        {
            var t = tensors[name].detach().cpu().contiguous();
            if (!Dtypes.TryGetValue(t.dtype, out var dt)) throw new LearngeneException($"cannot save tensor '{name}' of type {t.dtype} as safetensors");
            long bytes = t.numel() * dt.Size;
            header[name] = new JsonObject
            {
                ["dtype"] = dt.Name,
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            entries.Add((name, dt.Name, t.shape, offset, offset + bytes));
            offset += bytes;
            data.Add(t);
        }
        // The tensors' own memory is hashed, then written, piece by piece: no copy of the data is made.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in data) ForEachPiece(t, piece => sha.AppendData(piece));
        var all = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [VersionKey] = FormatVersion };
        all.Remove(HashKey);
        all.Remove(MetadataHashKey);
        all[MetadataHashKey] = MetadataHash(all, entries);
        all[HashKey] = Convert.ToHexStringLower(sha.GetHashAndReset());
        var meta = new JsonObject();
        foreach (var (k, v) in all.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
        // __metadata__ first, as other writers put it (the format allows any order).
        var ordered = new JsonObject { ["__metadata__"] = meta };
        foreach (var (k, v) in header.ToList()) { header.Remove(k); ordered[k] = v; }
        byte[] headerBytes = Encoding.UTF8.GetBytes(ordered.ToJsonString());
        int pad = (8 - headerBytes.Length % 8) % 8; // the format allows trailing spaces; aligned data is friendlier to mmap readers
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(headerBytes.Length + pad));
            stream.Write(len);
            stream.Write(headerBytes);
            for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
            foreach (var t in data) ForEachPiece(t, piece => stream.Write(piece));
        });
    }

    delegate void PieceAction(Span<byte> piece);

    /// <summary>Calls <paramref name="action"/> on a contiguous CPU tensor's bytes in pieces of at most <see cref="Chunk"/>
    /// bytes, in order (a span is limited to 2 GiB; a paper-size checkpoint's tensors are not).</summary>
    static void ForEachPiece(Tensor t, PieceAction action)
    {
        long count = t.numel();
        if (count == 0) return;
        using var flat = t.flatten();
        long perPiece = Math.Max(1, Chunk / t.element_size());
        for (long start = 0; start < count; start += perPiece)
        {
            using var piece = flat.narrow(0, start, Math.Min(perPiece, count - start));
            action(piece.bytes);
        }
    }

    /// <summary>SHA-256 of the header: the metadata entries but the hashes, then every tensor's name, dtype, shape and
    /// offsets, each text as its UTF-8 byte count (8 bytes, little-endian) and bytes, keys and names in ordinal
    /// order. Independent of JSON spacing, escaping and key order.</summary>
    static string MetadataHash(IReadOnlyDictionary<string, string> metadata, IEnumerable<(string Name, string Dtype, long[] Shape, long Begin, long End)> entries)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            sha.AppendData(length);
            sha.AppendData(bytes);
        }
        foreach (var (k, v) in metadata.Where(kv => kv.Key is not HashKey and not MetadataHashKey).OrderBy(kv => kv.Key, StringComparer.Ordinal)) { Text(k); Text(v); }
        Text("tensors");
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal)) { Text(e.Name); Text(e.Dtype); Text(string.Join(",", e.Shape)); Text($"{e.Begin},{e.End}"); }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Reads every tensor and the metadata. Any inconsistency (short file, bad header, offsets
    /// outside the data) is reported as a <see cref="LearngeneException"/> naming the file.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new LearngeneException($"file not found: {path}");
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new LearngeneException($"could not read {path}: {AtomicFile.Reason(e)}", e); }
        using var _ = file;
        var (header, metadata, dataStart) = ReadHeader(file, path);
        long dataLen = file.Length - dataStart;
        var entries = Entries(header, path, dataLen);
        CheckMetadataHash(metadata, entries, path);
        // The data is read once, in file order, straight into the tensors, and hashed as it passes.
        entries.Sort((x, y) => x.Begin != y.Begin ? x.Begin.CompareTo(y.Begin) : x.End.CompareTo(y.End));
        long furthest = 0;
        string? last = null;
        foreach (var e in entries.Where(e => e.End > e.Begin)) // empty tensors take no bytes and may sit anywhere
        {
            if (e.Begin < furthest) throw Invalid(path, $"tensors '{last}' and '{e.Name}' overlap");
            (furthest, last) = (e.End, e.Name);
        }
        var tensors = new Dictionary<string, Tensor>();
        using var sha = metadata.ContainsKey(HashKey) ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        try
        {
            file.Position = dataStart;
            long at = 0;
            void Take(Span<byte> into)
            {
                try { file.ReadExactly(into); }
                catch (EndOfStreamException) { throw Invalid(path, "it ended while being read (truncated meanwhile?)"); }
                catch (IOException e) { throw new LearngeneException($"could not read {path}: {AtomicFile.Reason(e)}", e); }
                sha?.AppendData(into);
            }
            void Skip(long bytes)
            {
                var buffer = new byte[(int)Math.Min(bytes, Chunk)];
                for (long left = bytes; left > 0; left -= buffer.Length) Take(buffer.AsSpan(0, (int)Math.Min(left, buffer.Length)));
            }
            foreach (var (name, type, shape, begin, end) in entries)
            {
                if (begin > at) Skip(begin - at);
                Tensor t;
                try { t = torch.empty(shape, type); }
                catch (System.Runtime.InteropServices.ExternalException) { throw new LearngeneException($"{path}: tensor '{name}' ({end - begin} bytes) does not fit in memory"); }
                tensors[name] = t;
                ForEachPiece(t, piece => Take(piece));
                at = Math.Max(at, end);
            }
            if (sha is not null && dataLen > at) Skip(dataLen - at); // the hash covers every byte after the header
            if (sha is not null && !string.Equals(metadata[HashKey], Convert.ToHexStringLower(sha.GetHashAndReset()), StringComparison.OrdinalIgnoreCase))
                throw new LearngeneException($"{path} is corrupt: its tensor data does not match the SHA-256 in its metadata (a changed byte or a partial copy)");
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return (tensors, metadata);
    }
}
