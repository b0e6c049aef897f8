using Learngene.Diffusion;
using Learngene.Interop.Onnx;
using Learngene.IO;
using Learngene.Models;

namespace Learngene.Interop;

/// <summary>What <c>learngene export</c> and <c>import</c> do: a Learngene model file to another tool's format
/// and back, deciding by the file's family which formats apply.</summary>
public static class Interchange
{
    public static readonly string[] ExportFormats = ["timm", "dit", "onnx"];
    public static readonly string[] ImportFormats = ["timm", "dit"];

    /// <summary>Writes <paramref name="modelPath"/> in <paramref name="format"/> to <paramref name="outPath"/>;
    /// returns a one-line description of what was written.</summary>
    /// <param name="reference">Also write <c>OUT.reference.safetensors</c>: a fixed input (<c>input</c>, for a
    /// classifier also the raw <c>pixels</c>; for a DiT <c>t</c> and <c>y</c> too) and this model's <c>output</c> on it,
    /// so that a loader elsewhere can check itself (bench/pytorch/interop.py does).</param>
    public static string Export(string modelPath, string format, string outPath, bool reference = false)
    {
        var config = ModelFile.ReadConfig(modelPath);
        switch (format)
        {
            case "timm":
                if (config is not VitConfig)
                    throw new LearngeneException($"{modelPath} holds a {config.Family} model; timm's VisionTransformer naming applies to ViTs (family vit); use --format onnx", setting: "format");
                {
                    var loaded = ModelFile.Load(modelPath);
                    using var model = loaded.Model;
                    TimmVit.Export(outPath, (VisionTransformer)model, loaded.Normalization, loaded.ClassNames);
                    if (reference) ClassifierReference(ReferencePath(outPath), model, loaded.Normalization);
                    return $"timm VisionTransformer(**{TimmVit.Args((VitConfig)config).ToJsonString()})";
                }
            case "dit":
                if (config is not DitConfig dit)
                    throw new LearngeneException($"{modelPath} holds a {config.Family} model; DiT's naming applies to diffusion transformers (family dit)", setting: "format");
                {
                    var loaded = ModelFile.LoadDiffusion(modelPath);
                    using var model = loaded.Model;
                    DitNaming.Export(outPath, model, loaded.Normalization, loaded.ClassNames, loaded.Metadata);
                    if (reference) DitReference(ReferencePath(outPath), model);
                    return $"DiT(**{DitNaming.Args(dit).ToJsonString()})";
                }
            case "onnx":
                if (reference && config is DitConfig)
                    throw new LearngeneException("--reference with --format onnx is for classifiers; export the DiT with --format dit --reference", setting: "reference");
                return OnnxExport.Export(modelPath, outPath, reference ? (model, norm) => ClassifierReference(ReferencePath(outPath), model, norm) : null);
            default:
                throw new LearngeneException($"unknown export format '{format}' (expected {string.Join(", ", ExportFormats)})", setting: "format");
        }
    }

    public static string ReferencePath(string outPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFileNameWithoutExtension(outPath) + ".reference.safetensors");

    static void ClassifierReference(string path, Classifier model, Data.Normalization norm)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var c = model.Config;
        var pixels = TorchSharp.torch.rand([4, c.Channels, c.ImageSize, c.ImageSize], generator: new TorchSharp.torch.Generator(2024));
        var input = norm.Apply(pixels);
        model.eval();
        SafeTensors.Save(path, new Dictionary<string, TorchSharp.torch.Tensor> { ["pixels"] = pixels, ["input"] = input, ["output"] = model.forward(input) });
    }

    static void DitReference(string path, DiffusionTransformer model)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var _ = TorchSharp.torch.no_grad();
        var c = model.Architecture;
        var x = TorchSharp.torch.randn([3, c.Channels, c.ImageSize, c.ImageSize], generator: new TorchSharp.torch.Generator(2024));
        var t = TorchSharp.torch.tensor(new float[] { 0, 417, 999 });
        // The null class only where the model has one (labels dropped in training).
        var y = TorchSharp.torch.tensor(new long[] { 0, Math.Min(1, c.Classes - 1), c.ClassDropout > 0 ? c.NullClass : c.Classes - 1 });
        model.eval();
        SafeTensors.Save(path, new Dictionary<string, TorchSharp.torch.Tensor> { ["input"] = x, ["t"] = t, ["y"] = y, ["output"] = model.forward(x, t, y) });
    }

    /// <summary>Reads <paramref name="path"/> (another tool's state dict) and writes a Learngene model file.</summary>
    public static string Import(string path, string format, string? config, string outPath)
    {
        var provenance = new Dictionary<string, string> { ["imported_from"] = Path.GetFileName(path), ["imported_format"] = format };
        switch (format)
        {
            case "timm":
                {
                    var loaded = TimmVit.Import(path, config);
                    using var model = loaded.Model;
                    ModelFile.Save(outPath, model, model, loaded.Normalization, loaded.ClassNames, provenance);
                    return model.Config.Describe();
                }
            case "dit":
                {
                    var imported = DitNaming.Import(path, config);
                    using var model = imported.Model;
                    provenance[DiffusionFile.PredictionKey] = imported.Prediction;
                    provenance[DiffusionFile.StepsKey] = imported.Steps.ToString();
                    ModelFile.Save(outPath, model, imported.Normalization, imported.ClassNames, provenance);
                    return model.Config.Describe() + $", {imported.Prediction} prediction over {imported.Steps} steps";
                }
            default:
                throw new LearngeneException($"unknown import format '{format}' (expected {string.Join(", ", ImportFormats)})", setting: "format");
        }
    }
}
