using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>Which tensors of a network train: a tuning method's or a transfer's choice (LoRA's adapters, KIND's
/// tailors, the new class table), kept with the network and in its model file's metadata — not in its
/// architecture. An entry ending in "." is a name prefix (<c>y_embedder.</c>), one ending in "_" a prefix of
/// the tensor's own name (<c>tailor_</c>, <c>lora_</c>), any other the tensor's own name (<c>delta</c>, <c>u</c>).</summary>
public static class TrainedTensors
{
    /// <summary>The model file metadata key that records the choice.</summary>
    public const string MetadataKey = "train_only";

    public static bool Trains(string name, IReadOnlyList<string>? entries) => entries is null || entries.Any(e => Matches(name, e));

    static bool Matches(string name, string entry)
    {
        if (entry.EndsWith('.')) return name.StartsWith(entry);
        string own = name[(name.LastIndexOf('.') + 1)..];
        return entry.EndsWith('_') ? own.StartsWith(entry) : own == entry;
    }

    /// <summary>Lets the named tensors train and freezes the rest (null: every tensor trains).</summary>
    public static void Apply(nn.Module model, IReadOnlyList<string>? entries)
    {
        foreach (var (name, p) in model.named_parameters()) p.requires_grad = Trains(name, entries);
    }

    public static string Encode(IReadOnlyList<string> entries) => string.Join(",", entries);

    public static string[]? Decode(string? text) => string.IsNullOrEmpty(text) ? null : text.Split(',');
}
