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
public static class SafeTensors
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

    /// <summary>The tensor entries of a header, every one checked against the file before anything is allocated: a
    /// header that claims a huge tensor, a negative dimension or an overflowing size is refused without asking for
    /// the memory.</summary>
    static List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)> Entries(JsonObject header, string path, long dataLen)
    {
        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                string dtype = node!["dtype"]!.GetValue<string>();
                long[] shape = node["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offs = node["data_offsets"]!.AsArray();
                if (offs.Count != 2) throw new FormatException();
                long begin = offs[0]!.GetValue<long>(), end = offs[1]!.GetValue<long>();
                var match = Dtypes.FirstOrDefault(kv => kv.Value.Name == dtype);
                if (match.Value.Name is null) throw Invalid(path, $"tensor '{name}' has unknown dtype {dtype}");
                if (shape.Any(d => d < 0)) throw Invalid(path, $"tensor '{name}' has a negative dimension");
                long bytes;
                try { bytes = checked(shape.Aggregate(1L, (a, b) => a * b) * match.Value.Size); }
                catch (OverflowException) { throw Invalid(path, $"tensor '{name}' claims more elements than any file holds"); }
                if (begin < 0 || end < begin || end > dataLen || end - begin != bytes)
                    throw Invalid(path, $"tensor '{name}' lies outside the file or disagrees with its shape and dtype (truncated?)");
                entries.Add((name, match.Key, shape, begin, end));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or JsonException or IndexOutOfRangeException or ArgumentException)
            {
                throw Invalid(path, $"the header entry for '{name}' is malformed");
            }
        }
        return entries;
    }

    /// <summary>From format 1.1 the metadata hash covers the metadata and every tensor entry (name, dtype, shape,
    /// offsets): a header edit that keeps the byte count (F32 for I32, a transposed shape) is caught too.</summary>
    static void CheckMetadataHash(Dictionary<string, string> metadata, IEnumerable<(string Name, ScalarType Type, long[] Shape, long Begin, long End)> entries, string path)
    {
        if (metadata.TryGetValue(MetadataHashKey, out var expected)
            && !string.Equals(expected, MetadataHash(metadata, entries.Select(e => (e.Name, Dtypes[e.Type].Name, e.Shape, e.Begin, e.End))), StringComparison.OrdinalIgnoreCase))
            throw new LearngeneException($"{path} is corrupt: its header does not match the SHA-256 in its metadata (a changed setting, normalisation, step, dtype or shape)");
    }

    /// <summary>The header (checked: length, UTF-8, JSON, metadata strings, version, metadata hash) and where the data starts.</summary>
    static (JsonObject Header, Dictionary<string, string> Metadata, long DataStart) ReadHeader(Stream file, string path)
    {
        Span<byte> len = stackalloc byte[8];
        if (file.Length < 8 || file.Read(len) != 8) throw Invalid(path, "it is shorter than its 8-byte header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLen > MaxHeaderBytes || (long)headerLen > file.Length - 8)
            throw Invalid(path, "the header length is larger than the file (truncated or not safetensors)");
        var buf = new byte[headerLen];
        try { file.ReadExactly(buf); }
        catch (EndOfStreamException) { throw Invalid(path, "it ended while its header was read (truncated meanwhile?)"); }
        JsonObject header;
        // Repeated names are refused by the parser (the format forbids them), also inside __metadata__ and entries.
        try { header = Materialized(JsonNode.Parse(StrictUtf8.GetString(buf), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false })); }
        catch (DecoderFallbackException) { throw Invalid(path, "its header is not UTF-8 text"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        { throw Invalid(path, "its JSON header does not parse"); }
        Dictionary<string, string> metadata;
        try { metadata = ParseMetadata(header, path); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { throw Invalid(path, "its __metadata__ does not parse"); }
        CheckVersion(metadata, path);
        // A file that says it is ours (format_version) always carries its data hash, and from 1.1 its metadata hash.
        if (metadata.ContainsKey(VersionKey) && !metadata.ContainsKey(HashKey))
            throw new LearngeneException($"{path} is corrupt: it was written by Learngene (format_version) but its SHA-256 ({HashKey}) is missing from its metadata");
        if (metadata.TryGetValue(VersionKey, out var version) && HasMetadataHash(version) && !metadata.ContainsKey(MetadataHashKey))
            throw new LearngeneException($"{path} is corrupt: it was written by Learngene {version} but its metadata's SHA-256 ({MetadataHashKey}) is missing");
        return (header, metadata, 8 + (long)headerLen);
    }

    /// <summary>Reads only the metadata, without the tensors (cheap for large files).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new LearngeneException($"file not found: {path}");
        try
        {
            using var fs = File.OpenRead(path);
            var (header, metadata, dataStart) = ReadHeader(fs, path);
            CheckMetadataHash(metadata, Entries(header, path, fs.Length - dataStart), path);
            return metadata;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new LearngeneException($"could not read {path}: {AtomicFile.Reason(e)}", e); }
    }

    /// <summary>The header as an object, its members read now: System.Text.Json defers them, and a repeated
    /// name (which the format forbids) would otherwise throw later, outside the parse's error handling.</summary>
    static JsonObject Materialized(JsonNode? node)
    {
        var obj = node?.AsObject() ?? throw new JsonException("empty");
        _ = obj.Count;
        return obj;
    }

    /// <summary>The <c>__metadata__</c> map: strings only, as the format says.</summary>
    static Dictionary<string, string> ParseMetadata(JsonObject header, string path)
    {
        var metadata = new Dictionary<string, string>();
        if (!header.TryGetPropertyValue("__metadata__", out var node) || node is null) return metadata;
        if (node is not JsonObject obj) throw Invalid(path, $"__metadata__ is not a map of strings");
        foreach (var (k, v) in obj)
            metadata[k] = v is JsonValue value && value.TryGetValue<string>(out var text) ? text
                : throw Invalid(path, $"metadata '{k}' is not a string");
        return metadata;
    }

    /// <summary>Format 1.1 and later hash their metadata.</summary>
    static bool HasMetadataHash(string version)
    {
        var parts = version.Split('.');
        return int.TryParse(parts[0], out int major) && (major > 1 || parts.Length > 1 && int.TryParse(parts[1], out int minor) && minor >= 1);
    }

    static void CheckVersion(Dictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(VersionKey, out var version)) return; // written before versions, or elsewhere
        var major = version.Split('.')[0];
        if (!int.TryParse(major, out int m) || m < 0)
            throw new LearngeneException($"{path}: its format_version '{version}' is not a version number");
        if (m > ReadableMajor)
            throw new LearngeneException($"{path} was written in file format {version} by a newer Learngene; this one reads format {ReadableMajor}.x: upgrade Learngene");
    }
}
