using Learngene.Baselines.Initializers;
using Learngene.Data;
using Learngene.IO;
using TorchSharp;

namespace Learngene.Experiments.Comparison;

/// <summary>One task's initializer contexts: each ancestry model loaded once, and what an initializer
/// computes once per ancestry (Auto-LG's layer ranking) kept in its context's memo for every depth.</summary>
public sealed class InitContexts(string task, ComparePreset preset, int imageSize, int channels) : IDisposable
{
    readonly Dictionary<string, InitContext> contexts = [];
    readonly List<ImageDataset> adapted = [];

    /// <summary>The scores an initializer left under its name, if it ran on this task.</summary>
    public double[]? Scores(string method) =>
        contexts.Values.Select(c => c.Memo.GetValueOrDefault(method) as double[]).FirstOrDefault(s => s is not null);

    /// <summary>The initializer's view of the task: its images in the family's input shape.</summary>
    public InitContext For(string ancestryPath, ImageDataset train)
    {
        if (!contexts.TryGetValue(ancestryPath, out var c))
        {
            // Shared by every descendant of the task, so nothing in it may depend on which asked first: its seed
            // is the preset's (the first seed's, as in a run from scratch), not the asking cell's.
            // Loading the ancestry builds a model, whose initialization draws from the global generator: keep its
            // state, so that a descendant's random parts do not depend on whether this context was made for it or
            // for an earlier cell (which a cached cell, a resumed run or another worker's cell would change).
            using var rng = torch.get_rng_state();
            var data = train.Adapt(imageSize, channels);
            if (!ReferenceEquals(data, train)) adapted.Add(data);
            contexts[ancestryPath] = c = new InitContext
            {
                Ancestry = ModelFile.Load(ancestryPath), AncestryPath = ancestryPath, SameLabelSpace = task == "source",
                Data = data, Seed = preset.Seed,
            };
            torch.set_rng_state(rng);
        }
        return c;
    }

    public void Dispose()
    {
        foreach (var c in contexts.Values) c.Ancestry?.Model.Dispose();
        foreach (var d in adapted) d.Dispose();
        Native.CollectGarbage();
    }
}
