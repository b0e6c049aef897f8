using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Baselines.Initializers;

/// <summary>Starts training from a model file (an expanded descendant, a pre-trained model…) on data that
/// may have another label space or channel count. The head is re-created (fresh weights) when the class
/// count differs. When the channel count differs the ViT's patch embedding is adapted so that a grey
/// image gets the same embedding either way: RGB→grey sums the three channel kernels, grey→RGB
/// replicates the kernel divided by 3.</summary>
public static class InitFromFile
{
    public sealed record Result(nn.Module Model, string Note);

    public static Result Load(string path, int classes, int channels)
    {
        if (ModelFile.ReadConfig(path) is DitConfig dit)
        {
            // A diffusion model starts as stored (a transfer's prepared model: its classes are the data's).
            if (dit.Classes != classes || dit.Channels != channels)
                throw new LearngeneException($"{path}: a diffusion model of {dit.Classes} classes and {dit.Channels} channels cannot start a run on data of {classes} classes and {channels} channels");
            return new Result(ModelFile.LoadDiffusion(path).Model, $"initialized from {path}");
        }

        var loaded = ModelFile.Load(path);
        var source = loaded.Model;
        var c = source.Config;
        if (classes == c.Classes && channels == c.Channels) return new Result(source, $"initialized from {path}");
        if (channels != c.Channels && (c.Family != "vit" || (channels != 1 && c.Channels != 1)))
            throw new LearngeneException($"{path}: cannot adapt a {c.Channels}-channel {c.Family} to {channels}-channel data");

        var model = Classifier.Create(c with { Classes = classes, Channels = channels });
        var from = source.state_dict();
        var notes = new List<string>();
        using var _ = torch.no_grad();
        foreach (var (name, target) in model.state_dict())
        {
            var src = from[name];
            if (name.StartsWith("head.") && classes != c.Classes) continue; // fresh head for a new label space
            if (name == "patch_embed.proj.weight" && channels != c.Channels)
            {
                target.copy_(channels == 1 ? src.sum(1, keepdim: true) : src.expand(-1, channels, -1, -1) / channels);
                continue;
            }
            target.copy_(src);
        }
        if (classes != c.Classes) notes.Add($"new {classes}-class head");
        if (channels != c.Channels) notes.Add($"patch embedding adapted from {c.Channels} to {channels} channels");
        source.Dispose();
        return new Result(model, $"initialized from {path} ({string.Join(", ", notes)})");
    }
}
