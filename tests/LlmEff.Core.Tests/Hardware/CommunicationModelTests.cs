using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Hardware;

public sealed class CommunicationModelTests
{
    public static TheoryData<double, double> BadLinks => new()
    {
        { -1, 0 },
        { 0, -1 },
        { 0, 0 },
        { 0, double.NaN },
        { double.NaN, 1e9 },
        { double.PositiveInfinity, 1e9 },
        { 0, double.PositiveInfinity },
    };

    [Theory]
    [MemberData(nameof(BadLinks))]
    public void InvalidInterconnect_IsRefusedNamingIt_NotGivenInfinityOrNaN(double latency, double bandwidth)
    {
        var bad = new Interconnect("bad", latency, bandwidth, "x");
        Assert.Equal("interconnect", Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.TransferSeconds(1e6, bad)).ParamName);
        Assert.Equal("interconnect", Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.AllReduceSeconds(1e6, 2, bad)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.AllGatherSeconds(1e6, 2, bad));
        Assert.Equal("interconnect", e.ParamName);
        Assert.Contains("'bad'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidByteCount_IsRefusedNamingBytes(double bytes)
    {
        Assert.Equal("bytes", Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.TransferSeconds(bytes, Interconnects.NvLink4)).ParamName);
        Assert.Equal("bytes", Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.AllReduceSeconds(bytes, 2, Interconnects.NvLink4)).ParamName);
    }
}
