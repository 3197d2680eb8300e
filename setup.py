"Packaging for fusedbun, nbdev 2 style: every setting lives in settings.ini; edit there, not here."
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=['='])
config.read(here/'settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + 'lib_name user branch license status min_python audience language'.split()
for o in expected: assert o in cfg, f'missing expected setting in settings.ini: {o}'
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License'),
    'mit': ('MIT License', 'OSI Approved :: MIT License'),
    'gpl2': ('GNU General Public License v2', 'OSI Approved :: GNU General Public License v2 (GPLv2)'),
    'gpl3': ('GNU General Public License v3', 'OSI Approved :: GNU General Public License v3 (GPLv3)'),
    'bsd3': ('BSD License', 'OSI Approved :: BSD License'),
}
statuses = {s[0]: s for s in ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta',
                               '5 - Production/Stable', '6 - Mature', '7 - Inactive']}  # status = 3 -> '3 - Alpha'
py_versions = '3.7 3.8 3.9 3.10 3.11 3.12 3.13'.split()

requirements = cfg.get('requirements', '').split()
# the tools' dependencies (fusedbun.bench and the notebooks), kept out of the optimizer's requirements
bench_requirements = cfg.get('bench_requirements', '').split()
dev_requirements = cfg.get('dev_requirements', '').split()
# Optional peer optimizers that the benchmarks compare against (pytorch_optimizer ships SM3, Adalite,
# Adafactor and AdaHessian); `dev` includes them so the tests and benchmarks can import them.
peer_requirements = ['pytorch_optimizer']
# Triton runs the GPU kernel of nbs/04a_triton.ipynb (CUDA builds of torch already depend on it); `dev` installs it
# on Linux x86-64 so the tests can check the kernel in Triton's CPU interpreter (CPU builds of torch do not ship it).
kernel_requirements = ['triton>=3.2; platform_system == "Linux" and platform_machine == "x86_64"']
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
readme = here/'README.md'

setuptools.setup(
    name=cfg['lib_name'],
    license=lic[0],
    classifiers=[
        'Development Status :: ' + statuses[cfg['status'].strip()],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]]
      + (['License :: ' + lic[1]] if lic[1] else []),
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    package_data={cfg['lib_path']: ['py.typed']},  # PEP 561: the package ships its type hints
    install_requires=requirements,
    extras_require={'dev': list(dict.fromkeys(dev_requirements + bench_requirements + peer_requirements + kernel_requirements)),
                    'bench': bench_requirements, 'peers': peer_requirements, 'kernels': kernel_requirements},
    python_requires='>=' + min_python,
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else cfg['description'],
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        # no 'nbdev' entry point: through it nbdev's show_doc would link every symbol to a source URL built from
        # settings.ini's git_url, and this project has no public repository to link to (a placeholder link is worse than none)
    },
    **setup_cfg)
