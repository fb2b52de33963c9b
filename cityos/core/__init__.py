"""The shared core: what more than one package needs (time formats, durations, the district's place
hierarchy, typed per-process parts, the names of the process roles, answer types).

It imports no other cityos package and neither HTTP nor a database driver, so that every layer above
may use it: core < store, bus < runtime < auth < context < domain packages < web, app, cli.
"""
