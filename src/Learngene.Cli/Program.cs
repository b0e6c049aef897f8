using TorchSharp;
var a = torch.randn(3, 3);
Console.WriteLine(torch.matmul(a, a).sum().item<float>());
