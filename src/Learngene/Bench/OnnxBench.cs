using System.Diagnostics;
using Learngene.Data;
using Learngene.Interop.Onnx;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Bench;

/// <summary>Inference images/s of one classifier in TorchSharp (eval, no grad) and as its exported ONNX graph
/// in ONNX Runtime, same batch of pixels in [0, 1], same thread count, measured back to back in alternating
/// rounds (the median of each is reported), so that the ratio holds on whatever CPU this runs on.</summary>
public static class OnnxBench
{
    public sealed record Result(string Model, string Description, int Batch, long MacsPerImage, double TorchImagesPerSec, double OnnxImagesPerSec, double MaxAbsDifference)
    {
        public double OnnxOverTorch => OnnxImagesPerSec / TorchImagesPerSec;
    }

    public static Result Measure(string presetName, ModelConfig config, int batch, int steps, int threads, int rounds = 3)
    {
        if (config is DitConfig) throw new LearngeneException($"{presetName} is a diffusion model; this benchmark runs classifiers", setting: "models");
        torch.manual_seed(0);
        using var model = Classifier.Create(config);
        model.eval();
        var norm = new Normalization(Enumerable.Repeat(0.5f, config.Channels).ToArray(), Enumerable.Repeat(0.25f, config.Channels).ToArray());
        string dir = Path.Combine(Path.GetTempPath(), "learngene-onnx-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "model.safetensors"), onnx = Path.Combine(dir, "model.onnx");
            ModelFile.Save(file, model, norm, Enumerable.Range(0, config.Classes).Select(k => k.ToString()).ToArray());
            OnnxExport.Export(file, onnx);
            using var session = new OnnxClassifier(onnx, threads);
            using var pixels = torch.rand([batch, config.Channels, config.ImageSize, config.ImageSize], generator: new Generator(1));
            float[] flat = pixels.data<float>().ToArray();

            double diff;
            using (torch.no_grad())
            using (var reference = model.forward(norm.Apply(pixels)))
            using (var fromOnnx = torch.tensor(session.Run(flat, batch), [batch, config.Classes]))
                diff = (reference - fromOnnx).abs().max().item<float>();

            var (torchRuns, onnxRuns) = (new List<double>(), new List<double>());
            for (int r = 0; r < rounds; r++)
            {
                torchRuns.Add(Time(steps, () =>
                {
                    using var scope = torch.NewDisposeScope();
                    using var _ = torch.no_grad();
                    model.forward(norm.Apply(pixels)); // the graph normalizes too
                }) * batch);
                onnxRuns.Add(Time(steps, () => session.Run(flat, batch)) * batch);
            }
            return new Result(presetName, config.Describe(), batch, model.MacsPerImage(), Median(torchRuns), Median(onnxRuns), diff);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    static double Time(int steps, Action step)
    {
        step(); step(); // warm-up: first-call allocations and kernel choices
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The CPU's model name (from /proc/cpuinfo where there is one), for the report.</summary>
    public static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
