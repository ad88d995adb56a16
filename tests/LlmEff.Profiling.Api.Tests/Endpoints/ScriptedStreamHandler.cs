using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests.Endpoints;

/// <summary>
/// Answers every request with a fixed server-sent event stream whose events arrive on a fake clock: before the
/// reader gets event k, the clock moves forward by its scripted delay. The endpoint times the stream on the same
/// clock, so its readings are exact and do not depend on how busy the machine is.
/// </summary>
internal sealed class ScriptedStreamHandler(FakeTimeProvider clock, IReadOnlyList<(TimeSpan Delay, string Data)> events) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new EventStream(clock, events)) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/event-stream");
        return Task.FromResult(response);
    }

    // One event per read, so that the reader stamps each event after its own clock step.
    private sealed class EventStream(FakeTimeProvider clock, IReadOnlyList<(TimeSpan Delay, string Data)> events) : Stream
    {
        private int _next;
        private byte[] _pending = [];
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_offset == _pending.Length)
            {
                if (_next == events.Count)
                {
                    return 0;
                }

                var (delay, data) = events[_next++];
                clock.Advance(delay);
                _pending = Encoding.UTF8.GetBytes($"data: {data}\n\n");
                _offset = 0;
            }

            var n = Math.Min(count, _pending.Length - _offset);
            Array.Copy(_pending, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
