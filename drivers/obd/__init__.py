"""OBD-II diagnostics over ELM327-compatible adapters (USB, Bluetooth SPP, Wi-Fi/TCP), Qt-free.

Layers, bottom up (import from the submodules; this package imports nothing, so ``carbot`` does not
pay ~0.4 s for python-OBD and pint unless diagnostics are really used)::

    elm.py        ElmLink: bytes ↔ lines over pyserial ``serial_for_url``; every read bounded by a
                  Deadline (python-OBD's own transport can block ~110 s on a dead adapter)
    replies.py    classify(): lines → Reply(state, messages); python-OBD's protocol classes parse
                  the frames; NO DATA, CAN ERROR, UNABLE TO CONNECT, BUS INIT: ERROR, STOPPED, ?,
                  7F negative responses and junk become ReplyStates, never values
    decode.py     PID values through python-OBD's Mode 01/02 decoders (pint → float + unit);
                  our own VIN and DTC-byte decoding (python-OBD's VIN decoder corrupts VINs,
                  its DTC text table is not ours: texts come from app.dtc)
    handshake.py  connect sequence: ATZ/ATE0/ATL0/ATS0/ATH1, ATI/STI, ATRV, then ATTP<known> +
                  0100, falling back to ATSP0 (the adapter's search) + ATDPN
    results.py    frozen result objects (ConnectionInfo, VinResult, VehicleStatus with German
                  readiness monitors, DtcReport/DtcGroup/Dtc, FreezeFrame, ClearResult)
    reader.py     ObdReader: connect, read_vin, read_status, read_dtcs (03/07/0A), freeze_frame,
                  clear_dtcs, supported_pids, read_pids
    live.py       LiveSampler: up to six PIDs per Mode 01 request on CAN, detected once per
                  adapter/car, single requests (with the response-count digit) otherwise
    memory.py     LinkMemory: last protocol per port and per vehicle, batching per adapter (JSON)
    reconnect.py  Reconnector: back-off schedule for re-opening a lost link (pure)
    ports.py      list_ports(): serial/USB/Bluetooth ports + the usual Wi-Fi address
    errors.py     ObdError → AdapterNotFound, LinkLost → AdapterTimeout, NotConnected, ProtocolError
    cli.py        carbot obd ports|scan|live|clear

Contract for the Qt worker (architecture §5):

* One ``ObdReader`` per adapter, created and used by exactly one thread (the worker's QThread);
  calls from another thread raise ``RuntimeError``. Results are frozen dataclasses without
  python-OBD objects, safe to emit in a signal.
* Every call is bounded: ``connect(deadline=15 s)``; other calls take ``deadline`` (the whole
  call) and never wait longer than ``command_timeout`` (default 2.5 s) for one adapter reply.
* Exceptions mean the link is unusable: ``LinkLost`` (and its ``AdapterTimeout``) close the
  session; feed them to a ``Reconnector`` and call ``connect`` again when it is due.
  ``NotConnected`` (ignition off) carries the adapter facts in ``.adapter``. Everything the car
  says or fails to say per request is a ``ReplyState`` on the result, with a German ``text``.
* ``LiveSampler.sample()`` is one round over the chosen PIDs; loop it in the worker and emit
  snapshots at 5–10 Hz; ``values_per_second`` and ``batched`` feed the connection panel.
* Clearing (``clear_dtcs``) also erases freeze frames and readiness: confirm with the user first.

Licences: python-OBD is GPL-2.0 (hence the project's GPL-2.0-or-later); the ELM327-emulator used
by the tests is CC-BY-NC-SA and never shipped. See docs/diagnostics.md.
"""
