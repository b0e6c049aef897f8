using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.IO;

/// <summary>Reading and checking a safetensors header: its length, UTF-8 JSON, metadata, version, hashes and tensor
/// entries, each against the file before anything is allocated.</summary>
public static partial class SafeTensors
{
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
