# SPDX-License-Identifier: MIT
# pyxs-check.py: pyxs (python3-pyxs) through SOCKET under BASE, printing
# what it sees with BASE folded to "/B", so that a run through the proxy
# and one on xenstored's socket can be compared line for line.
#
#	python3 pyxs-check.py SOCKET BASE
import sys

import pyxs

sock, b = sys.argv[1], sys.argv[2].encode()
with pyxs.Client(unix_socket_path=sock) as c:
    c[b + b'/x'] = b'1'
    c.mkdir(b + b'/y')
    print('read', c[b + b'/x'], sorted(c.list(b)))
    c.transaction()
    c[b + b'/x'] = b'2'
    print('commit', c.commit(), c.read(b + b'/x'))
    try:
        c.read(b + b'/nope')
    except pyxs.PyXSError as e:
        print('error', e.args[0])
    m = c.monitor()
    m.watch(b + b'/y', b'tk')
    ev = next(m.wait())
    print('event', ev.path.replace(b, b'/B'), ev.token)
    c[b + b'/y/z'] = b'3'
    ev = next(m.wait())
    print('event', ev.path.replace(b, b'/B'), ev.token)
    m.unwatch(b + b'/y', b'tk')
    m.close()
    c.delete(b)
    print('exists', c.exists(b))
