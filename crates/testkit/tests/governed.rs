//! The governed fixture works: a key binding and a phase approval go through propose, vote,
//! queue and execute, and the direct path is closed (the operator holds no governed role).

use sankofa_abi::{SankofaGovernor, ids::site_id};
use sankofa_testkit::{GovernanceTiming, GovernedSystem, SiteSpec, anvil, anvil_key, provider};

#[tokio::test]
async fn decisions_go_through_the_governor_and_timelock() {
    let anvil = anvil(None).unwrap();
    let op = anvil_key(&anvil, 0);
    let members = [anvil_key(&anvil, 1), anvil_key(&anvil, 2)];
    let system = GovernedSystem::deploy(
        provider(&anvil, &op),
        op.address(),
        &members,
        &anvil.endpoint(),
        GovernanceTiming::default(),
        [(0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    system
        .register(&[SiteSpec::new(
            "core-fra",
            sankofa_abi::ids::Tier::Core,
            1,
            None,
        )])
        .await
        .unwrap();
    // The operator cannot bind directly: only the timelock can.
    let direct = system
        .registry()
        .bindAgentKey(site_id("core-fra").unwrap(), op.address())
        .call()
        .await;
    assert!(direct.is_err(), "the operator must hold no governed role");

    let agent = anvil_key(&anvil, 3).address();
    let governed = system.bind("core-fra", agent).await.unwrap();
    assert_eq!(governed.vote_txs.len(), 2);
    let bound = system
        .registry()
        .agentOf(site_id("core-fra").unwrap())
        .call()
        .await
        .unwrap();
    assert_eq!(bound, agent);
    let state = SankofaGovernor::new(system.governor, system.provider.clone())
        .state(governed.proposal_id)
        .call()
        .await
        .unwrap();
    assert_eq!(state, 7, "Executed");

    system.approve_phase(1).await.unwrap();
    assert_eq!(system.rollout().currentPhase().call().await.unwrap(), 1);
}
