# Build ironic's sample config with oslo-config-generator's formatter from
# ironic's own option modules, loaded one by one (the full `--namespace
# ironic` needs all of ironic's dependencies installed).
#   pip download --no-deps ironic==39.0.0; unzip ironic-39.0.0-*.whl -d DIR
#   .venv/bin/python gen_ironic_sample.py DIR ironic.conf.sample
# Modules whose imports are missing from the peers' venv are skipped.
import importlib.util, sys, types
root, output = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
# ironic.conf/__init__ imports every module (and their deps); stand it in
# with an empty package so single modules load.
pkg = types.ModuleType('ironic.conf'); pkg.__path__ = [root + '/ironic/conf']
import ironic, ironic.common
sys.modules['ironic.conf'] = pkg
from oslo_config import cfg, generator
out = open(output, 'w')
conf = cfg.ConfigOpts(); generator.register_cli_opts(conf); conf(["--namespace", "ironic"], default_config_files=[]); fmt = generator._OptFormatter(conf, output_file=out)
groups = {}
for mod in ['default', 'agent', 'api', 'conductor', 'database', 'deploy', 'dhcp',
            'inspector', 'json_rpc', 'mdns', 'metrics', 'neutron', 'nova', 'pxe',
            'redfish', 'service_catalog', 'swift', 'glance']:
    try:
        m = importlib.import_module('ironic.conf.' + mod)
    except Exception as e:
        print('skip', mod, type(e).__name__, e, file=sys.stderr); continue
    if mod == 'default':
        for name in dir(m):
            if name.endswith('_opts') and isinstance(getattr(m, name), list):
                groups.setdefault('DEFAULT', []).extend(getattr(m, name))
        continue
    opts = getattr(m, 'opts', None)
    if opts is None:
        print('no opts', mod, file=sys.stderr); continue
    groups[mod] = opts
for g in ['DEFAULT'] + sorted(k for k in groups if k != 'DEFAULT'):
    if g not in groups: continue
    generator._output_opts(fmt, g, {'object': None, 'namespaces': [('ironic', groups[g])]})
    out.write('\n\n')
