#!/usr/bin/env python3
"""A filling machine's controller as an OPC UA server, for testing takt's OPC UA client against an
independent implementation (Python's asyncua, installed by scripts/setup.sh into target/tools-venv).

Address space (namespace `urn:takt:test:machine`, string node ids):
  Filler.State        String   RUNNING, then every `--cycle` ticks a stop: FAULT for 3 ticks
  Filler.GoodParts    UInt32   running total of good parts: +1 per tick (600 ms) while RUNNING
  Filler.Temperature  Double   degC
  Filler.Overheat     Boolean  true while FAULT
  Filler.SpeedSetpoint Double  bottles/min, written once at start

Every value is written with its source timestamp. Each write is also appended to `--log` as one
JSON line ({"node", "value", "source_us"}): the truth a test compares what takt stored with.
The part counter is kept in `--counter-file` and read back on start: a machine's counter survives a
restart of its OPC UA server, as a PLC's does.

Security: the endpoint offers None and Basic256Sha256 Sign&Encrypt (certificate and key generated
into `--certs` on first start); with TAKT_TEST_OPCUA_USER and TAKT_TEST_OPCUA_PASSWORD set, a login
is required and an anonymous session is refused. Prints `ready <endpoint>` once it serves.
"""
import argparse
import asyncio
import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.server.user_managers import UserManager
from asyncua.server.users import User, UserRole
from cryptography.x509.oid import ExtendedKeyUsageOID

NAMESPACE = "urn:takt:test:machine"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Login(UserManager):
    def __init__(self, user, password):
        self.user, self.password = user, password

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username == self.user and password == self.password:
            return User(role=UserRole.User)
        return None


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--certs", type=Path, required=True)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--counter-file", type=Path, required=True)
    # 600 ms: a bottle every tick while running, the filler's 100 bottles a minute.
    ap.add_argument("--tick-ms", type=int, default=600)
    ap.add_argument("--cycle", type=int, default=10)
    args = ap.parse_args()

    user, password = os.environ.get("TAKT_TEST_OPCUA_USER"), os.environ.get("TAKT_TEST_OPCUA_PASSWORD")
    server = Server(user_manager=Login(user, password) if user else None)
    await server.init()
    endpoint = f"opc.tcp://127.0.0.1:{args.port}/takt/"
    server.set_endpoint(endpoint)
    server.set_server_name("takt test machine")
    await server.set_application_uri("urn:takt:test:machine:server")
    server.set_security_policy([
        ua.SecurityPolicyType.NoSecurity,
        ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    ])
    server.set_security_IDs(["Username"] if user else ["Anonymous", "Username"])
    args.certs.mkdir(parents=True, exist_ok=True)
    cert, key = args.certs / "server-cert.der", args.certs / "server-key.pem"
    await setup_self_signed_certificate(
        key, cert, "urn:takt:test:machine:server", "127.0.0.1",
        [ExtendedKeyUsageOID.SERVER_AUTH], {"commonName": "takt test machine"},
    )
    await server.load_certificate(str(cert))
    await server.load_private_key(str(key))

    ns = await server.register_namespace(NAMESPACE)
    filler = await server.nodes.objects.add_object(ua.NodeId("Filler", ns), ua.QualifiedName("Filler", ns))
    state = await filler.add_variable(ua.NodeId("Filler.State", ns), "State", "RUNNING", ua.VariantType.String)
    good = await filler.add_variable(ua.NodeId("Filler.GoodParts", ns), "GoodParts", 0, ua.VariantType.UInt32)
    temperature = await filler.add_variable(ua.NodeId("Filler.Temperature", ns), "Temperature", 60.0, ua.VariantType.Double)
    overheat = await filler.add_variable(ua.NodeId("Filler.Overheat", ns), "Overheat", False, ua.VariantType.Boolean)
    setpoint = await filler.add_variable(ua.NodeId("Filler.SpeedSetpoint", ns), "SpeedSetpoint", 100.0, ua.VariantType.Double)

    count = int(args.counter_file.read_text()) if args.counter_file.exists() else 0
    log = args.log.open("a")

    async def write(node, name, value, kind):
        now = datetime.now(timezone.utc)
        await node.write_value(ua.DataValue(ua.Variant(value, kind), SourceTimestamp=now, ServerTimestamp=now))
        source_us = (now - EPOCH) // timedelta(microseconds=1)
        log.write(json.dumps({"node": name, "value": value, "source_us": source_us}) + "\n")
        log.flush()

    async with server:
        # The values as the machine stands at start, with their time stamps.
        await write(state, "Filler.State", "RUNNING", ua.VariantType.String)
        await write(good, "Filler.GoodParts", count, ua.VariantType.UInt32)
        await write(setpoint, "Filler.SpeedSetpoint", 100.0, ua.VariantType.Double)
        await write(temperature, "Filler.Temperature", 60.0, ua.VariantType.Double)
        await write(overheat, "Filler.Overheat", False, ua.VariantType.Boolean)
        print(f"ready {endpoint}", flush=True)
        tick, current = 0, "RUNNING"
        while True:
            await asyncio.sleep(args.tick_ms / 1000)
            tick += 1
            phase = tick % args.cycle
            wanted = "FAULT" if phase >= args.cycle - 3 else "RUNNING"
            if wanted != current:
                current = wanted
                await write(state, "Filler.State", current, ua.VariantType.String)
                await write(overheat, "Filler.Overheat", current == "FAULT", ua.VariantType.Boolean)
            if current == "RUNNING":
                count += 1
                args.counter_file.write_text(str(count))
                await write(good, "Filler.GoodParts", count, ua.VariantType.UInt32)
            if tick % 5 == 0:
                await write(temperature, "Filler.Temperature", round(60.0 + 5.0 * (phase / args.cycle), 2), ua.VariantType.Double)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
