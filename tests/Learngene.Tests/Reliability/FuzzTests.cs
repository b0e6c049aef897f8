using System.Diagnostics;
using CsCheck;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>Every file reader under random and mutated input (CsCheck): each input is read or refused with a
/// <see cref="LearngeneException"/>; no other exception, no input slower than a few seconds, no unbounded
/// memory. Short mode by default (CI); LEARNGENE_FUZZ=N runs N inputs per reader (the README's long mode).</summary>
[Collection("fuzz")]
public class FuzzTests
{
    static readonly long Inputs = long.TryParse(Environment.GetEnvironmentVariable("LEARNGENE_FUZZ"), out var n) && n > 0 ? n : 400;

    /// <summary>Half the inputs: random bytes; half: a valid file with 1–8 mutations (flipped bits, random bytes,
    /// a cut, an insertion, a changed digit, so that headers lie plausibly), all from one seed.</summary>
    static Gen<byte[]> Inputs_(byte[][] valid) => Gen.Frequency(
        (1, Gen.Byte.Array[0, 600]),
        (3, Gen.Select(Gen.Int[0, valid.Length - 1], Gen.ULong, (which, seed) => Mutate(valid[which], new Random((int)(seed ^ (seed >> 32)))))));

    static byte[] Mutate(byte[] valid, Random r)
    {
        var b = new List<byte>(valid);
        for (int k = r.Next(1, 9); k > 0 && b.Count > 0; k--)
        {
            int at = r.Next(b.Count);
            switch (r.Next(6))
            {
                case 0: b[at] ^= (byte)(1 << r.Next(8)); break;
                case 1: b[at] = (byte)r.Next(256); break;
                case 2: b.RemoveRange(at, b.Count - at); break;
                case 3: b.InsertRange(at, Enumerable.Range(0, r.Next(1, 16)).Select(_ => (byte)r.Next(256))); break;
                case 4:
                    int digit = b.FindIndex(r.Next(b.Count), x => x is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0) b[digit] = (byte)('0' + r.Next(10));
                    break;
                default: b.RemoveAt(at); break;
            }
        }
        return b.ToArray();
    }

    /// <summary>Reads every input with <paramref name="read"/>; fails on any exception but LearngeneException,
    /// on a slow input, and on resident memory growing past 1 GiB over the run. Returns the count.</summary>
    static void Fuzz(string name, byte[] valid, Action<string> read) => Fuzz(name, [valid], read);

    static void Fuzz(string name, byte[][] valid, Action<string> read)
    {
        string dir = TestData.TempDir(), path = Path.Combine(dir, "input");
        long before = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        int refused = 0, read_ = 0;
        Inputs_(valid).Sample(bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var one = Stopwatch.StartNew();
            using var scope = torch.NewDisposeScope();
            try { read(path); read_++; }
            catch (LearngeneException) { refused++; }
            if (one.Elapsed > TimeSpan.FromSeconds(5)) throw new Exception($"{name}: one input took {one.Elapsed.TotalSeconds:F1} s");
        }, iter: Inputs, threads: 1);
        long grown = Process.GetCurrentProcess().WorkingSet64 - before;
        Assert.True(grown < 1L << 30, $"{name}: resident memory grew {grown >> 20} MiB");
        Console.WriteLine($"fuzz {name}: {Inputs} inputs ({read_} read, {refused} refused) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    static byte[] ValidModelFile()
    {
        using var model = new VisionTransformer(new VitConfig { Width = 8, Depth = 1, Heads = 2, PatchSize = 7, Classes = 3 });
        string path = Path.Combine(TestData.TempDir(), "m.safetensors");
        ModelFile.Save(path, model, new Normalization([0.5f], [0.25f]), ["a", "b", "c"]);
        return File.ReadAllBytes(path);
    }

    static byte[] WithoutHash(byte[] file)
    {
        long n = BitConverter.ToInt64(file, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(file.AsSpan(8, (int)n))!.AsObject();
        header["__metadata__"]!.AsObject().Remove(SafeTensors.HashKey);
        var text = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        return [.. BitConverter.GetBytes((long)text.Length), .. text, .. file.AsSpan(8 + (int)n)];
    }

    [Fact]
    public void Safetensors_and_model_files()
    {
        // With its SHA-256 (a changed data byte is caught there) and without (as from elsewhere: mutations
        // then reach the tensors, the metadata and the model's shapes).
        var valid = ValidModelFile();
        Fuzz("safetensors", [valid, WithoutHash(valid)], path =>
        {
            var (tensors, _) = SafeTensors.Load(path);
            foreach (var t in tensors.Values) t.Dispose();
            SafeTensors.ReadMetadata(path);
            ModelFile.Load(path).Model.Dispose(); // the metadata (config, classes, normalization) too
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx(bool gzip)
    {
        string file = Path.Combine(TestData.TempDir(), "x.idx");
        IdxReader.Write(file, [3, 4, 5], Enumerable.Range(0, 60).Select(i => (byte)i).ToArray(), gzip);
        Fuzz(gzip ? "idx.gz" : "idx", File.ReadAllBytes(file), path => IdxReader.Read(path));
    }

    [Fact]
    public void Cifar()
    {
        string dir = TestData.TempDir();
        var record = Enumerable.Range(0, 1 + 3072).Select(i => (byte)(i % 7)).ToArray();
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), record);
        Fuzz("cifar", [.. record, .. record], path =>
        {
            File.Copy(path, Path.Combine(dir, "test_batch.bin"), overwrite: true);
            var splits = CifarDataset.Load(dir, cifar100: false);
            splits.Train.Dispose(); splits.Test.Dispose();
        });
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void Images(string format)
    {
        string root = TestData.TempDir();
        foreach (var split in new[] { "train", "test" }) Directory.CreateDirectory(Path.Combine(root, split, "a"));
        using var bmp = new SKBitmap(8, 8);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) bmp.SetPixel(x, y, new SKColor((byte)(x * 30), (byte)(y * 30), 90));
        using var data = bmp.Encode(format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(Path.Combine(root, "test", "a", "0." + format), data.ToArray());
        string target = Path.Combine(root, "train", "a", "0." + format);
        Fuzz(format, data.ToArray(), path =>
        {
            File.Copy(path, target, overwrite: true);
            var splits = ImageFolderDataset.Load(root, size: 8);
            splits.Train.Dispose(); splits.Test.Dispose();
        });
    }
}
