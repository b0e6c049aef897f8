using System.Diagnostics;
using CsCheck;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.Experiments;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Methods.Kind;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>Write → read gives back what was written: any tensors (dtype, shape, values) and any metadata strings.</summary>
public class RoundTripTests
{
    static readonly (ScalarType Type, Func<long[], Tensor> Make)[] Types =
    [
        (ScalarType.Float32, s => torch.randn(s)), (ScalarType.Float64, s => torch.randn(s, ScalarType.Float64)),
        (ScalarType.Float16, s => torch.randn(s).to_type(ScalarType.Float16)), (ScalarType.BFloat16, s => torch.randn(s).to_type(ScalarType.BFloat16)),
        (ScalarType.Int64, s => torch.randint(-1000, 1000, s, ScalarType.Int64)), (ScalarType.Int32, s => torch.randint(-1000, 1000, s, ScalarType.Int32)),
        (ScalarType.Int16, s => torch.randint(-1000, 1000, s, ScalarType.Int16)), (ScalarType.Int8, s => torch.randint(-100, 100, s, ScalarType.Int8)),
        (ScalarType.Byte, s => torch.randint(0, 255, s, ScalarType.Byte)), (ScalarType.Bool, s => torch.randint(0, 2, s, ScalarType.Bool)),
    ];

    static readonly Gen<(int Type, long[] Shape, int Seed)> AnyTensor = Gen.Select(Gen.Int[0, Types.Length - 1], Gen.Long[0, 5].Array[0, 3], Gen.Int, (t, s, seed) => (t, s, seed));
    static readonly Gen<string> Name = Gen.String[Gen.Char.AlphaNumeric, 1, 12];
    /// <summary>Any text a metadata value can be (valid UTF-16, so valid UTF-8): control characters, accents, CJK, emoji.</summary>
    static readonly Gen<string> AnyText = Gen.OneOf(Gen.String, Gen.String[Gen.Char[(char)0, (char)0xD7FF], 0, 40],
        Gen.Int[0x1F300, 0x1FAFF].Array[0, 5].Select(cs => string.Concat(cs.Select(char.ConvertFromUtf32))));

    [Fact]
    public void Safetensors_gives_back_every_tensor_and_metadata_string_it_wrote()
    {
        string dir = TestData.TempDir();
        Gen.Select(Gen.Dictionary(Name, AnyTensor)[0, 6], Gen.Dictionary(Name, AnyText)[0, 5]).Sample((tensors, metadata) =>
        {
            using var scope = torch.NewDisposeScope();
            var written = tensors.ToDictionary(kv => kv.Key, kv => { torch.manual_seed(kv.Value.Seed); return Types[kv.Value.Type].Make(kv.Value.Shape); });
            string path = Path.Combine(dir, "x.safetensors");
            SafeTensors.Save(path, written, metadata);
            var (read, meta) = SafeTensors.Load(path);
            Assert.Equal(written.Keys.Order(), read.Keys.Order());
            foreach (var (name, t) in written)
            {
                Assert.Equal(t.dtype, read[name].dtype);
                Assert.Equal(t.shape, read[name].shape);
                Assert.True(t.equal(read[name]).all().item<bool>(), name);
            }
            foreach (var (k, v) in metadata) Assert.Equal(v, meta[k]);
            Assert.Equal(metadata.Count + 3, meta.Count); // plus version, data hash, metadata hash
            Assert.Equal(meta, SafeTensors.ReadMetadata(path));
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void Idx_gives_back_the_shape_and_bytes_it_wrote()
    {
        string dir = TestData.TempDir();
        Gen.Select(Gen.Int[0, 6].Array[1, 4], Gen.Bool, Gen.Int).Sample((shape, gzip, seed) =>
        {
            var bytes = new byte[shape.Aggregate(1, (a, b) => a * b)];
            new Random(seed).NextBytes(bytes);
            string path = Path.Combine(dir, gzip ? "x.gz" : "x");
            IdxReader.Write(path, shape, bytes, gzip);
            var (readShape, readBytes) = IdxReader.Read(path);
            Assert.Equal(shape, readShape);
            Assert.Equal(bytes, readBytes);
        }, iter: 200, threads: 1);
    }
}

/// <summary>Learngene's own files give back what was written: a model file its architecture, weights,
/// normalisation and class names; a learngene file its tensors and description; for generated small configs.</summary>
public class FileRoundTripTests
{
    static readonly Gen<ModelConfig> AnyConfig = Gen.OneOf<ModelConfig>(
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[0, 2].Select(i => new[] { 7, 14, 28 }[i]), Gen.Int[2, 10], Gen.Bool.Select(b => b ? "cls" : "avg"),
            (depth, heads, patch, classes, pooling) => (ModelConfig)new VitConfig { Depth = depth, Heads = heads, Width = 4 * heads, PatchSize = patch, Classes = classes, Pooling = pooling }),
        Gen.Select(Gen.Int[1, 2].Array[1, 3], Gen.Int[2, 6], Gen.Int[1, 3], (blocks, width, channels) => (ModelConfig)new ResNetConfig { StageBlocks = blocks, Width = width, Channels = channels }));

    static readonly Gen<string> Text = Gen.String[Gen.Char[(char)32, (char)0xD7FF], 1, 10];

    [Fact]
    public void A_model_file_gives_back_its_architecture_weights_normalisation_and_class_names()
    {
        string dir = TestData.TempDir();
        Gen.Select(AnyConfig, Gen.Int, Gen.Float[0.01f, 1f], Text.Array[10]).Sample((config, seed, std, names) =>
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(seed);
            using var model = Classifier.Create(config);
            var norm = new Normalization(Enumerable.Repeat(0.5f, config.Channels).ToArray(), Enumerable.Repeat(std, config.Channels).ToArray());
            var classes = names.Take(config.Classes).ToArray();
            string path = Path.Combine(dir, "m.safetensors");
            ModelFile.Save(path, model, model, norm, classes);
            var loaded = ModelFile.Load(path);
            using var back = loaded.Model;
            Assert.True(back.Config.SameArchitecture(config));
            Assert.Equal(norm.Mean, loaded.Normalization.Mean);
            Assert.Equal(norm.Std, loaded.Normalization.Std);
            Assert.Equal(classes, loaded.ClassNames);
            var (a, b) = (model.state_dict(), back.state_dict());
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (name, t) in a) Assert.True(t.equal(b[name]).all().item<bool>(), name);
        }, iter: 40, threads: 1);
    }

    [Fact]
    public void A_learngene_file_gives_back_its_tensors_and_description()
    {
        string dir = TestData.TempDir();
        Gen.Select(Gen.Int[1, 4], Gen.Bool.Select(b => b ? "tleg" : "sws"), Gen.Int, Text, Gen.Long[0, 1L << 40]).Sample((depth, method, seed, source, images) =>
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(seed);
            var m = LearngeneMethods.FindAuxiliary(method);
            var vit = new VitConfig { Width = 8, Depth = method == "sws" ? 2 : depth, Heads = 2, PatchSize = 7, Classes = 3, Pooling = "avg" };
            using var auxiliary = m.CreateAuxiliary(vit, method == "sws" ? "{\"stages\":[1,1]}" : null);
            var info = new LearngeneInfo { Method = method, Architecture = (VitConfig)auxiliary.Config, SourceData = source, ClassNames = ["a", "b", "c"], ImagesSeen = images, Seed = seed, MethodSettings = m.SettingsOf(auxiliary) };
            var tensors = m.Extract(auxiliary);
            string path = Path.Combine(dir, "g.safetensors");
            LearngeneFile.Save(path, tensors, info);
            using var gene = LearngeneFile.Load(path, method);
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(info, ModelConfig.Json), System.Text.Json.JsonSerializer.Serialize(gene.Info, ModelConfig.Json));
            Assert.Equal(tensors.Keys.Order(), gene.Tensors.Keys.Order());
            foreach (var (name, t) in tensors) Assert.True(t.equal(gene.Tensors[name]).all().item<bool>(), name);
        }, iter: 30, threads: 1);
    }
}
