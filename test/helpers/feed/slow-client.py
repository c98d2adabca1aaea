"""A WebSocket feed client that authenticates and then never reads: its receive buffer is made tiny
(SO_RCVBUF, which node cannot set) so the daemon's unsent data piles up quickly. Exits when stdin closes."""
import base64, json, os, socket, struct, sys

port, token = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /v1/feed HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 101"), head
payload = json.dumps({"type": "auth", "token": token}).encode()
mask = os.urandom(4)
# RFC 6455 §5.2: FIN + text opcode, masked client frame, 16-bit length when over 125 bytes.
header = bytes([0x81, 0x80 | len(payload)]) if len(payload) < 126 else bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(payload))
s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
print("authenticated", flush=True)
sys.stdin.read()
