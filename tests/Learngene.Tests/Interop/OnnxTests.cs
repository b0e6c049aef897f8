using Learngene.Data;
using Learngene.Interop.Onnx;
using Learngene.IO;
using Learngene.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Interop;

/// <summary>An exported ONNX graph, run by ONNX Runtime, computes what the TorchSharp model computes.</summary>
public class OnnxTests
{
    static readonly Normalization Norm = new([0.3f], [0.2f]);
    static readonly VitConfig Vit = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, Classes = 10, ImageSize = 28, Channels = 1 };

    public static TheoryData<string> Families => ["vit-cls", "vit-avg", "vit-fcnorm", "stitched", "stitched-fcnorm", "resnet"];

    static Classifier Build(string family) => family switch
    {
        "vit-cls" => new VisionTransformer(Vit),
        "vit-avg" => new VisionTransformer(Vit with { Pooling = "avg" }),
        "vit-fcnorm" => new VisionTransformer(Vit with { Pooling = "avg", FcNorm = true }),
        "stitched" => Classifier.Create(new StitchedVitConfig { Front = Vit with { Width = 16, Heads = 2, Depth = 4 }, End = Vit with { Depth = 4, Heads = 4 }, FrontBlocks = 2, EndStart = 2, Classes = 10 }),
        "stitched-fcnorm" => Classifier.Create(new StitchedVitConfig
        {
            Front = Vit with { Width = 16, Heads = 2, Depth = 4, Pooling = "avg", FcNorm = true }, End = Vit with { Depth = 4, Heads = 4, Pooling = "avg", FcNorm = true },
            FrontBlocks = 2, EndStart = 2, Classes = 10,
        }),
        _ => Classifier.Create(new ResNetConfig { Width = 8, StageBlocks = [1, 1], Classes = 10, ImageSize = 28, Channels = 1 }),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void The_graph_gives_the_models_logits_on_pixels(string family)
    {
        using var model = Build(family);
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters()) p.add_(torch.randn_like(p) * 0.05); // no all-zero tensors
        if (model is ResNet) { model.train(); using var warm = torch.no_grad(); model.forward(torch.rand(8, 1, 28, 28)); } // running statistics
        model.eval();
        string dir = TestData.TempDir(), file = Path.Combine(dir, "model.safetensors"), onnx = Path.Combine(dir, "model.onnx");
        ModelFile.Save(file, model, model, Norm, Enumerable.Range(0, 10).Select(k => $"c{k}").ToArray());
        OnnxExport.Export(file, onnx);

        using var pixels = torch.rand(5, 1, 28, 28, generator: new Generator(3));
        using var session = new OnnxClassifier(onnx);
        var fromOnnx = torch.tensor(session.Run(pixels.data<float>().ToArray(), 5), [5, 10]);
        using var _ = torch.no_grad();
        var fromTorch = model.forward(Norm.Apply(pixels));
        double diff = (fromOnnx - fromTorch).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"{family}: max abs difference {diff}");
    }

    [Fact]
    public void A_DiT_denoising_step_matches()
    {
        var config = new DitConfig { ImageSize = 16, Channels = 1, Classes = 3, PatchSize = 4, Width = 32, Depth = 2, Heads = 2, LearnSigma = true };
        using var model = new DiffusionTransformer(config);
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters()) p.copy_(torch.randn_like(p) * 0.1);
        model.eval();
        var proto = OnnxExport.Dit(model, new Dictionary<string, string>());
        string path = Path.Combine(TestData.TempDir(), "dit.onnx");
        using (var f = File.Create(path)) Google.Protobuf.MessageExtensions.WriteTo(proto, f);

        using var x = torch.randn(3, 1, 16, 16);
        float[] t = [0, 250, 999];
        long[] y = [0, 2, 3];
        using var session = new InferenceSession(path);
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x.data<float>().ToArray(), [3, 1, 16, 16])),
            NamedOnnxValue.CreateFromTensor("t", new DenseTensor<float>(t, [3])),
            NamedOnnxValue.CreateFromTensor("y", new DenseTensor<long>(y, [3])),
        ]);
        var fromOnnx = torch.tensor(results.First().AsEnumerable<float>().ToArray(), [3, 2, 16, 16]);
        using var _ = torch.no_grad();
        var fromTorch = model.forward(x, torch.tensor(t), torch.tensor(y));
        double diff = (fromOnnx - fromTorch).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"max abs difference {diff}");
    }

    [Fact]
    public void Eval_with_the_onnx_runtime_gives_the_model_files_accuracy()
    {
        // A model that is better than chance on real data, so that the accuracies compare something.
        var data = TestData.FashionMnist;
        using var model = new VisionTransformer(Vit);
        var norm = Normalization.Of(data.Train);
        var options = new Learngene.Training.TrainOptions { Epochs = 1, BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.1 };
        new Learngene.Training.Trainer(options).FitClassifier(model, new DataSplits(data.Train.Subset(2000, 0), data.Test.Subset(200, 0)), norm);
        string dir = TestData.TempDir(), file = Path.Combine(dir, "model.safetensors"), onnx = Path.Combine(dir, "model.onnx");
        ModelFile.Save(file, model, norm, data.Train.ClassNames);
        var (code, _, err) = CliTests.Run("export", file, "--format", "onnx", "--out", onnx);
        Assert.True(code == 0, err);
        var (c1, torchOut, e1) = CliTests.Run("eval", file, "--data", "fashion-mnist", "--test-limit", "1000");
        var (c2, onnxOut, e2) = CliTests.Run("eval", onnx, "--runtime", "onnx", "--data", "fashion-mnist", "--test-limit", "1000");
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        string Accuracy(string s) => s[(s.IndexOf("accuracy ") + 9)..s.IndexOf('%')];
        Assert.Equal(Accuracy(torchOut), Accuracy(onnxOut));
        Assert.True(double.Parse(Accuracy(torchOut)) > 15, torchOut); // above chance (10%): predictions that differ would show
    }
}
