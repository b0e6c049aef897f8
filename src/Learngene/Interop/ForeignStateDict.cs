using System.Text.RegularExpressions;
using Learngene.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Interop;

/// <summary>A state dict from another tool being read into a Learngene model: its tensors, metadata and the
/// configuration that the shapes do not tell (<see cref="ForeignConfig"/>), with the shape questions every
/// family asks (a square patch kernel, a square grid of positions, how many blocks) answered or refused in one
/// line naming the file. The family's own rules (which names, which arguments) stay with the family.</summary>
public sealed class ForeignStateDict : IDisposable
{
    public string Path { get; }
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;
    public Dictionary<string, string> Metadata { get; }
    public ForeignConfig Config { get; }
    readonly Dictionary<string, Tensor> tensors;
    readonly string what;

    ForeignStateDict(string path, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata, ForeignConfig config, string what)
    {
        Path = path; this.tensors = tensors; Metadata = metadata; Config = config; this.what = what;
    }

    /// <summary>Reads <paramref name="path"/>; <paramref name="argsKey"/> names the metadata entry holding the peer's
    /// constructor arguments, <paramref name="what"/> the kind of state dict expected ("a DiT state dict").</summary>
    public static ForeignStateDict Open(string path, string? config, string argsKey, string what)
    {
        var (tensors, meta) = SafeTensors.Load(path);
        try { return new ForeignStateDict(path, tensors, meta, ForeignConfig.Read(config, meta, argsKey), what); }
        catch { foreach (var t in tensors.Values) t.Dispose(); throw; }
    }

    public LearngeneException Error(string message) => new($"{Path}: {message}");

    /// <summary>Refuses the first tensor whose name <paramref name="known"/> does not match, saying <paramref name="why"/>.</summary>
    public void RefuseUnknown(Regex known, string why)
    {
        foreach (var name in tensors.Keys)
            if (!known.IsMatch(name)) throw Error($"tensor '{name}' {why}");
    }

    public bool Has(string name) => tensors.ContainsKey(name);

    /// <summary>The shape of <paramref name="name"/>, checked for its rank and for positive sizes first, so a
    /// lying file gets one line rather than a crash further on.</summary>
    public long[] Shape(string name, int rank)
    {
        if (!tensors.TryGetValue(name, out var x)) throw Error($"tensor '{name}' is missing: not {what}");
        if (x.shape.Length != rank || x.shape.Any(d => d < 1))
            throw Error($"tensor '{name}' has shape [{string.Join(",", x.shape)}], not {rank} positive dimensions");
        return x.shape;
    }

    /// <summary>A patch embedding's convolution: (width, channels, patch size) of a square kernel.</summary>
    public (int Width, int Channels, int Patch) PatchEmbedding(string name)
    {
        var s = Shape(name, 4);
        if (s[2] != s[3]) throw Error($"{name} is not a square convolution kernel");
        return ((int)s[0], (int)s[1], (int)s[2]);
    }

    /// <summary>The side of the square grid of patches <c>pos_embed</c> holds after <paramref name="extra"/>
    /// leading tokens (a class token).</summary>
    public int Grid(string name, int extra)
    {
        long tokens = Shape(name, 3)[1] - extra;
        int grid = (int)Math.Round(Math.Sqrt(Math.Max(tokens, 0)));
        if (tokens < 1 || (long)grid * grid != tokens) throw Error($"{name} holds {tokens} patch positions, not a square grid");
        return grid;
    }

    /// <summary>How many <c>blocks.i</c> carry <paramref name="suffix"/>; refuses none.</summary>
    public int Blocks(string suffix)
    {
        int depth = tensors.Keys.Count(k => k.StartsWith("blocks.") && k.EndsWith(suffix));
        return depth > 0 ? depth : throw Error("there are no blocks");
    }

    /// <summary>The head count, which no shape tells.</summary>
    public int Heads(string key = "num_heads") => Config.Get<int?>(key) ?? throw Error(
        $"the number of attention heads is not in the tensors' shapes; give it: --config '{{\"{key}\": H}}'");

    /// <summary>Builds the model and loads the tensors into it (every name and shape checked); disposes it on failure.</summary>
    public T Build<T>(Func<T> create) where T : nn.Module
    {
        var model = create();
        try { ModelFile.LoadInto(model, tensors, Path); return model; }
        catch { model.Dispose(); throw; }
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
