"""hmm_example-hmm_example: two-state Gaussian HMM; the state path is summed out by the forward algorithm,
a scan over time with log-sum-exp (jaxmc.scan.scan with jaxmc, pytensor.scan with PyMC)."""

import numpy as np

from benchmarks.posteriordb.common import normal_lpdf, scan_fn

POSTERIOR = "hmm_example-hmm_example"


def build(pm, data):
    scan = scan_fn(pm)
    K, y = int(data["K"]), np.asarray(data["y"], float)
    tr = pm.distributions.transforms
    with pm.Model(coords={"state": np.arange(K)}) as model:
        y_obs = pm.Data("y_obs", y)
        theta1 = pm.Dirichlet("theta1", a=np.ones(K), dims="state")
        theta2 = pm.Dirichlet("theta2", a=np.ones(K), dims="state")
        # positive ordered: log, then ordered (0 < mu[0] < mu[1])
        mu = pm.Normal("mu", mu=np.array([3.0, 10.0]), sigma=1.0, dims="state",
                       transform=tr.Chain([tr.log, tr.ordered]), initval=np.array([3.0, 10.0]))
        log_gamma = pm.math.log(pm.math.stack([theta1, theta2]))  # [j, k] = log P(z_t = k | z_{t-1} = j)
        log_emit = normal_lpdf(pm, y_obs[:, None], mu[None, :], 1.0)  # (N, K)

        def forward(log_emit_t, log_alpha_prev, log_gamma):
            return pm.math.logsumexp(log_alpha_prev[:, None] + log_gamma, axis=0) + log_emit_t

        log_alpha, _ = scan(forward, sequences=[log_emit[1:]], outputs_info=[log_emit[0]],
                            non_sequences=[log_gamma])
        pm.Potential("y_loglik", pm.math.logsumexp(log_alpha[-1]))
    return model
