# ego vehicle following a truck (refav_parity program p20)
description = 'ego vehicle following a truck'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
trucks = scenario_or([get_objects_of_category(log_dir, category='TRUCK'),
                      get_objects_of_category(log_dir, category='BOX_TRUCK'),
                      get_objects_of_category(log_dir, category='TRUCK_CAB')])
ego_following_truck = following(ego_vehicle, trucks, log_dir)
output_scenario(ego_following_truck, description, log_dir, output_dir)
