using System.Diagnostics;
using System.Net;
using System.Text;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>Damaged, lying or hostile input: one clear error line and a non-zero exit, never a stack trace,
/// and nothing good overwritten.</summary>
public partial class BadInputTests
{
    static void OneLine((int Code, string Out, string Err) run, string expected)
    {
        Assert.NotEqual(0, run.Code);
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.Err);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    static string Header(string json, params byte[][] data)
    {
        string path = Path.Combine(TestData.TempDir(), "x.safetensors");
        var header = Encoding.UTF8.GetBytes(json);
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((long)header.Length));
        f.Write(header);
        foreach (var d in data) f.Write(d);
        return path;
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "outside the file")]                   // claims more data than there is
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, "disagrees with its shape")]           // size ≠ shape × dtype
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, "outside the file")]                   // offset past the end
    [InlineData("{\"w\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "unknown dtype")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, "negative dimension")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}", 16, "more elements")] // overflows long
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}", 16, "outside the file")] // 4 TiB: refused before allocating
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,16]}}", 16, "malformed")]
    [InlineData("{\"__metadata__\":{\"format\":3},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "not a string")]
    [InlineData("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "does not parse")] // a repeated metadata key
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "does not parse")]   // a repeated field in an entry
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "overlap")]
    public void A_safetensors_header_that_lies_is_refused_with_its_reason(string header, int dataBytes, string expected)
    {
        string path = Header(header, new byte[dataBytes]);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains(expected, e.Message);
        OneLine(CliTests.Run("inspect", path), expected);
    }

    [Fact]
    public void A_header_length_larger_than_the_file_is_refused()
    {
        string path = Path.Combine(TestData.TempDir(), "x.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(long.MaxValue), .. "{}"u8.ToArray()]);
        OneLine(CliTests.Run("inspect", path), "header length");
    }

    [Fact]
    public void A_model_file_whose_shapes_do_not_match_its_architecture_is_refused()
    {
        using var model = new VisionTransformer(new VitConfig { Width = 16, Depth = 1, Heads = 2, Classes = 10 });
        var state = ModelFile.StateDict(model);
        state["head.weight"] = torch.zeros(10, 8);
        string path = Path.Combine(TestData.TempDir(), "m.safetensors");
        SafeTensors.Save(path, state, new Dictionary<string, string>
        {
            ["format"] = ModelFile.Format, ["config"] = model.Config.ToJson(),
            ["normalization"] = "{\"mean\":[0.5],\"std\":[0.25]}", ["classes"] = "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]",
        });
        OneLine(CliTests.Run("eval", path, "--data", "fashion-mnist", "--test-limit", "10"), "tensor 'head.weight' has shape [10,8]");
    }

    [Fact]
    public void Damaged_IDX_files_are_refused()
    {
        string dir = TestData.TempDir();
        var data = new byte[2 * 4 * 4];
        IdxReader.Write(Path.Combine(dir, "ok.idx"), [2, 4, 4], data);
        var good = File.ReadAllBytes(Path.Combine(dir, "ok.idx"));
        File.WriteAllBytes(Path.Combine(dir, "short.idx"), good[..^5]);
        Assert.Contains("truncated", Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "short.idx"))).Message);
        var flipped = (byte[])good.Clone();
        flipped[7] ^= 0x40; // the first dimension becomes 2 + 2²⁴·4: the header lies about the data
        File.WriteAllBytes(Path.Combine(dir, "flipped.idx"), flipped);
        Assert.Contains("promises", Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "flipped.idx"))).Message);
        var huge = (byte[])good.Clone();
        huge[3] = 4; // rank 4 over the data: four dimensions of up to 2³¹
        Array.Fill(huge, (byte)0x7f, 4, 16);
        File.WriteAllBytes(Path.Combine(dir, "huge.idx"), huge);
        Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "huge.idx")));
        IdxReader.Write(Path.Combine(dir, "ok.idx.gz"), [2, 4, 4], data, gzip: true);
        var gz = File.ReadAllBytes(Path.Combine(dir, "ok.idx.gz"));
        File.WriteAllBytes(Path.Combine(dir, "short.idx.gz"), gz[..^12]);
        Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "short.idx.gz")));
        // Through the CLI: an idx: data set whose image file is cut short.
        Directory.CreateDirectory(Path.Combine(dir, "set"));
        foreach (var (split, n) in new[] { ("train", 6), ("t10k", 3) })
        {
            IdxReader.Write(Path.Combine(dir, "set", $"{split}-images-idx3-ubyte"), [n, 28, 28], new byte[n * 784]);
            IdxReader.Write(Path.Combine(dir, "set", $"{split}-labels-idx1-ubyte"), [n], new byte[n]);
        }
        var images = Path.Combine(dir, "set", "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..1000]);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "idx:" + Path.Combine(dir, "set"), "--out", Path.Combine(dir, "run")), "truncated");
    }

    [Fact]
    public void Damaged_CIFAR_files_are_refused()
    {
        string dir = TestData.TempDir();
        var record = new byte[1 + 3072];
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), [.. record, .. record]);
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), record[..^100]); // truncated
        Assert.Contains("whole number", Assert.Throws<LearngeneException>(() => CifarDataset.Load(dir, cifar100: false)).Message);
        var bad = (byte[])record.Clone();
        bad[0] = 200; // a flipped label byte: class 200 of 10
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), bad);
        Assert.Contains("outside the 10 classes", Assert.Throws<LearngeneException>(() => CifarDataset.Load(dir, cifar100: false)).Message);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "cifar10:" + dir, "--out", Path.Combine(dir, "run")), "outside the 10 classes");
    }

    static byte[] Png(int side)
    {
        using var bmp = new SKBitmap(side, side);
        bmp.Erase(SKColors.Gray);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("huge")]
    [InlineData("jpeg-truncated")]
    public void Damaged_images_in_an_image_folder_are_refused_by_name(string damage)
    {
        string root = TestData.TempDir();
        foreach (var c in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(root, c));
            for (int i = 0; i < 4; i++) File.WriteAllBytes(Path.Combine(root, c, $"{i}.png"), Png(8));
        }
        var png = Png(8);
        string bad = Path.Combine(root, "b", damage.StartsWith("jpeg") ? "z.jpg" : "z.png");
        switch (damage)
        {
            case "truncated": File.WriteAllBytes(bad, png[..20]); break;
            case "garbage": File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("this is not an image at all")); break;
            case "huge":
                // The IHDR chunk claims 1 000 000 × 1 000 000 pixels (CRC left wrong: the claim is what must be refused).
                var lying = (byte[])png.Clone();
                lying[16] = 0x00; lying[17] = 0x0f; lying[18] = 0x42; lying[19] = 0x40;
                lying[20] = 0x00; lying[21] = 0x0f; lying[22] = 0x42; lying[23] = 0x40;
                File.WriteAllBytes(bad, lying);
                break;
            default:
                using (var bmp = new SKBitmap(8, 8))
                using (var jpg = bmp.Encode(SKEncodedImageFormat.Jpeg, 90))
                    File.WriteAllBytes(bad, jpg.ToArray()[..10]);
                break;
        }
        var e = Assert.Throws<LearngeneException>(() => ImageFolderDataset.Load(root, size: 8));
        Assert.Contains(bad, e.Message);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "imagefolder:" + root, "--out", Path.Combine(root, "..", Path.GetFileName(root) + "-run")), "z.");
    }

    [Fact]
    public async Task A_truncated_or_bit_flipped_deb_is_refused_by_its_pinned_checksum()
    {
        // A mirror (a local HTTP server) serving a damaged package: the download fails on its SHA-256, no file is left.
        var good = Encoding.ASCII.GetBytes("!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n");
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(good));
        foreach (var served in new[] { good[..^10], good.Select((b, i) => i == 20 ? (byte)(b ^ 1) : b).ToArray() })
        {
            using var listener = new HttpListener();
            int port = Random.Shared.Next(20000, 60000);
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            var serve = Task.Run(() =>
            {
                var ctx = listener.GetContext();
                ctx.Response.OutputStream.Write(served);
                ctx.Response.Close();
            });
            string dest = Path.Combine(TestData.TempDir(), "x.deb");
            var e = Assert.Throws<LearngeneException>(() => DebianArchive.Download("pool/main/x/x.deb", sha, dest, [$"http://127.0.0.1:{port}"]));
            Assert.Contains("SHA-256", e.Message);
            Assert.False(File.Exists(dest));
            await serve;
        }
    }
}
